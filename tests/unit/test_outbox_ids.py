"""Message-IDs are stable for a row but cannot be computed without the secret key."""

from __future__ import annotations

from pathlib import Path

from accord.config import Settings
from accord.mail.message import make_message_id
from accord.services.outbox import message_id_for


def test_message_ids_are_stable_and_keyed(tmp_path: Path) -> None:
    one = Settings(home=tmp_path, secret_key="a" * 40, mail_from="icc@example.org")
    other = Settings(home=tmp_path, secret_key="b" * 40, mail_from="icc@example.org")
    key = "invitation:1:2:v1"
    assert message_id_for(one, key) == message_id_for(one, key)
    assert message_id_for(one, key).endswith("@example.org>")
    assert message_id_for(one, key) != message_id_for(other, key)
    assert message_id_for(one, key) != make_message_id(key, "example.org")
