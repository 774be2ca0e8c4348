"""Member names end up in mail headers: the shortcut for a name with nothing unprintable gives
exactly what replacing each unprintable character with a space gives."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from accord.services.member_files import _one_line


def _character_by_character(text: str) -> str:
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab Æ-\t\r\n\x00\x1b\u00a0\u2028\u200b\u3000é"))))
@example("Member 000001 Æsøy")
@example("  Gemma\r\nBcc: x@example.org ")
@example("A\u00a0B\u2028C\u3000D")
def test_a_name_is_one_line_either_way(text: str) -> None:
    assert _one_line(text) == _character_by_character(text)
