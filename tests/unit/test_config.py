"""Settings: defaults, derived values, the development key, production's refusal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from accord.config import ConfigError, Settings, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("ACCORD_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACCORD_HOME", str(tmp_path / "home"))


def test_defaults_follow_the_contract(tmp_path: Path) -> None:
    s = load_settings()
    assert s.db_url == f"sqlite:///{tmp_path / 'home' / 'accord.db'}"
    assert s.smtp_address == ("127.0.0.1", 1025) and s.uses_dev_mailbox
    assert s.mail_from == "secretariat@localhost"
    assert s.reply_pattern == "secretariat+{key}@localhost"
    assert s.public_url == "http://127.0.0.1:8000"
    assert s.timezone == "Europe/Paris" and not s.imap_configured


def test_a_dot_env_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ACCORD_MAIL_FROM=icc@example.org\n", encoding="utf-8")
    s = load_settings()
    assert s.mail_from == "icc@example.org"
    assert s.reply_pattern == "icc+{key}@example.org"


def test_the_development_key_is_generated_once(tmp_path: Path) -> None:
    first = load_settings().resolve_secret_key()
    assert len(first) >= 40
    assert load_settings().resolve_secret_key() == first
    assert (tmp_path / "home" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_production_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_ENV", "production")
    with pytest.raises(ConfigError, match="ACCORD_SECRET_KEY must be set"):
        load_settings()
    monkeypatch.setenv("ACCORD_SECRET_KEY", "k" * 40)
    assert load_settings().resolve_secret_key() == "k" * 40


def test_accord_now_replaces_the_clock_naive_means_secretariat_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACCORD_NOW", "2023-10-01T09:00:00")
    assert load_settings().clock()() == datetime(2023, 10, 1, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ACCORD_TIMEZONE", "Mars/Olympus", "ACCORD_TIMEZONE: unknown time zone"),
        ("ACCORD_SMTP_TLS", "maybe", "ACCORD_SMTP_TLS"),
        ("ACCORD_SMTP_PORT", "twenty-five", "ACCORD_SMTP_PORT"),
    ],
)
def test_a_bad_setting_is_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings()
    assert "\n" not in str(caught.value)


def test_smtp_port_defaults_follow_the_transport() -> None:
    assert Settings(smtp_host="mx", smtp_tls="starttls").smtp_address == ("mx", 587)
    assert Settings(smtp_host="mx", smtp_tls="tls").smtp_address == ("mx", 465)


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ACCORD_SMTP_USERNAME=` in a shell or a .env template means "not set", not "log in as
    nobody"; an empty port or database URL would otherwise be an error or a broken URL."""
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "DATABASE_URL"):
        monkeypatch.setenv(f"ACCORD_{name}", "")
    s = load_settings()
    assert s.smtp_username is None and s.smtp_password is None
    assert s.uses_dev_mailbox and s.smtp_address == ("127.0.0.1", 1025)
    assert s.db_url.startswith("sqlite:///")


def test_the_environment_comes_before_dot_env_and_given_values_before_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        "ACCORD_MAIL_FROM=file@example.org\nACCORD_PUBLIC_URL=https://file.example.org/\n"
        "ACCORD_SMTP_HOST=\nOTHER_SMTP_HOST=ignored\naccord_timezone=Europe/Oslo\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ACCORD_MAIL_FROM", "env@example.org")
    monkeypatch.setenv("ACCORD_PUBLIC_URL", "")  # empty: the file's value stands
    s = load_settings()
    assert s.mail_from == "env@example.org"
    assert s.public_url == "https://file.example.org"
    assert s.timezone == "Europe/Oslo" and s.smtp_host is None
    assert load_settings(mail_from="given@example.org").mail_from == "given@example.org"
    assert Settings(home=tmp_path).mail_from == "env@example.org"


def test_a_list_is_read_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_REMINDER_DAYS", "[5, 2, 1]")
    assert load_settings().reminder_days == [5, 2, 1]
    monkeypatch.setenv("ACCORD_REMINDER_DAYS", "5,2")
    with pytest.raises(ConfigError, match="ACCORD_REMINDER_DAYS") as caught:
        load_settings()
    assert "\n" not in str(caught.value)


def test_settings_import_no_pydantic_settings() -> None:
    import subprocess
    import sys

    probe = "import sys, accord.config; print('pydantic_settings' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_loading_the_settings_looks_for_no_pydantic_plugin() -> None:
    """Looking reads every installed distribution's entry points, about 20 ms of every command's
    start-up; accord has no pydantic plugin to find."""
    import subprocess
    import sys

    probe = (
        "import importlib.metadata, os\n"
        "looked = []\n"
        "importlib.metadata.entry_points = lambda **kw: looked.append(kw) or ()\n"
        "from accord.config import load_settings\n"
        "load_settings()\n"
        "print(looked, 'PYDANTIC_DISABLE_PLUGINS' in os.environ)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False"
