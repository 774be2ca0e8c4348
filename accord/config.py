"""Settings, read once from the environment (or `.env` in the working directory) and handed down.

Every `ACCORD_*` variable (README.md, "Settings") is here. Nothing reads the environment at
import time: call `load_settings()` where a command or an app starts.

The variables are read as pydantic-settings would read them (prefix `ACCORD_`, any case, the
environment before `.env`, an empty value counts as unset, a list as JSON) by `_from_environment`,
and validated by a plain pydantic model: importing pydantic-settings cost every command about
0.15 s of start-up (bench/RESULTS.md, `accord rounds status`).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from statemachines.errors import AccordError
from statemachines.pacing import Limits

Transport = Literal["none", "starttls", "tls"]
SECRET_KEY_FILE = "secret_key"


class ConfigError(AccordError):
    """A setting that keeps accord from starting."""


PREFIX = "ACCORD_"
ENV_FILE = ".env"
_NO_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"
_BUILDING = threading.Lock()


class Settings(BaseModel):
    """The settings; values given here come before the environment's (`_from_environment`)."""

    # Built by `load_settings` (`_build_settings_model`), not when this module is imported.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    env: Literal["development", "production"] = "development"
    home: Path = Field(default_factory=lambda: Path.home() / ".accord")
    database_url: str | None = None

    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Transport = "none"
    mail_from: str = "secretariat@localhost"
    reply_address: str | None = None

    imap_host: str | None = None
    imap_port: int | None = None
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_tls: Transport = "tls"
    imap_folder: str = "INBOX"

    public_url: str = "http://127.0.0.1:8000"
    # The Prefect UI the console links to (each round's flow runs); by default the UI of the
    # server PREFECT_UI_URL or PREFECT_API_URL names (`accord up` sets the latter); no link
    # without one of them.
    prefect_ui_url: str | None = None
    secret_key: SecretStr | None = None
    timezone: str = "Europe/Paris"
    now: datetime | None = None

    reminder_days: list[int] = Field(default_factory=lambda: [3, 1])
    # How long a sender's claim on outbox rows holds without progress before another sender may
    # take them over (wall clock; renewed as mail goes out). Shorter recovers faster after a
    # crash; a third of it must exceed the time one message can take (retries included).
    outbox_lease_seconds: int = Field(default=600, ge=1)
    max_reminders: int = 3
    # No reminder sooner than this after a member's invitation (or revision) or last reminder.
    reminder_min_gap_hours: float = Field(default=24, ge=0)
    link_grace_hours: int = 72

    # The provider's sending limits, one budget for every sender (accord.services.pacing).
    smtp_max_per_minute: int | None = Field(default=None, ge=1)
    smtp_max_per_day: int | None = Field(default=None, ge=1)
    # Test-only: the length in seconds of the budget's "minute" (a day is 1,440 of them), so a
    # test can pace a round in seconds on the real code path. Not for production.
    smtp_budget_minute_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, given: Any) -> Any:
        if not isinstance(given, dict):
            return given
        return {"prefect_ui_url": _prefect_ui(), **_environment(cls.model_fields), **given}

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{value}'") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _production_needs_a_key(self) -> Settings:
        if self.env == "production" and not self.secret_key:
            raise ValueError("ACCORD_SECRET_KEY must be set when ACCORD_ENV=production")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'accord.db'}"

    @property
    def smtp_address(self) -> tuple[str, int]:
        """Where mail goes: the configured server, or the dev mailbox on 127.0.0.1:1025."""
        if not self.smtp_host:
            return "127.0.0.1", self.smtp_port or 1025
        default_port = {"none": 25, "starttls": 587, "tls": 465}[self.smtp_tls]
        return self.smtp_host, self.smtp_port or default_port

    @property
    def smtp_limits(self) -> Limits:
        """The sending budget's limits (accord.services.pacing)."""
        return Limits(
            self.smtp_max_per_minute, self.smtp_max_per_day, self.smtp_budget_minute_seconds
        )

    @property
    def uses_dev_mailbox(self) -> bool:
        return not self.smtp_host

    @property
    def reply_pattern(self) -> str:
        """The Reply-To address with `{key}`; by default `local+{key}@domain` of the sender."""
        if self.reply_address:
            return self.reply_address
        local, _, domain = self.mail_from.partition("@")
        return f"{local}+{{key}}@{domain or 'localhost'}"

    @property
    def imap_configured(self) -> bool:
        return bool(self.imap_host)

    def clock(self) -> Callable[[], datetime]:
        """Now, in UTC; ACCORD_NOW (naive means the secretariat's time) replaces the clock."""
        if self.now is None:
            return lambda: datetime.now(UTC)
        fixed = self.now if self.now.tzinfo else self.now.replace(tzinfo=self.tz)
        fixed = fixed.astimezone(UTC)
        return lambda: fixed

    def resolve_secret_key(self) -> str:
        """The link-signing key: the setting, or in development one generated once into home."""
        if self.secret_key:
            return self.secret_key.get_secret_value()
        if self.env == "production":  # pragma: no cover - the validator refuses this earlier
            raise ConfigError("ACCORD_SECRET_KEY must be set when ACCORD_ENV=production")
        return _dev_secret_key(self.home)


@lru_cache(maxsize=64)
def _dev_secret_key(home: Path) -> str:
    """Read the development key, creating it (mode 0600, never overwritten) the first time; read
    once a process (the reply app reads it for every answer: keyed by `home`, whose hash is
    kept, not by a path joined each time)."""
    path = home / SECRET_KEY_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


def _environment(fields: dict[str, Any]) -> dict[str, Any]:
    """The `ACCORD_*` variables of the environment, then of `.env` in the working directory, by
    field name: names in any case, empty values skipped, lists decoded from JSON."""
    found: dict[str, Any] = {}
    sources: list[dict[str, str | None]] = [dict(os.environ)]
    if Path(ENV_FILE).is_file():
        from dotenv import dotenv_values

        sources.append(dotenv_values(ENV_FILE, encoding="utf-8"))
    for source in sources:
        for key, value in source.items():
            name = key.lower().removeprefix(PREFIX.lower())
            if not value or name == key.lower() or name not in fields or name in found:
                continue
            found[name] = value
    for name, value in found.items():
        if get_origin(fields[name].annotation) is list:
            with suppress(ValueError):  # if not JSON, validation says what is wrong with it
                found[name] = json.loads(value)
    return found


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a bad value becomes a one-line ConfigError."""
    from pydantic import ValidationError

    _build_settings_model()
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        name = f"ACCORD_{where.upper()}: " if where else ""
        raise ConfigError(
            f"bad setting: {name}{first['msg'].removeprefix('Value error, ')}"
        ) from None


def _prefect_ui() -> str | None:
    """Prefect's own UI address, else its API's without `/api`."""
    ui = os.environ.get("PREFECT_UI_URL", "").strip()
    api = os.environ.get("PREFECT_API_URL", "").strip().rstrip("/")
    return (ui or api.removesuffix("/api")).rstrip("/") or None


def _build_settings_model() -> None:
    """Build the model once, without looking for pydantic plugins: looking reads every installed
    distribution's entry points, about 20 ms of each command's start-up, and accord has none."""
    with _BUILDING:
        if not Settings.__pydantic_complete__:
            with _no_pydantic_plugins():
                Settings.model_rebuild()


@contextmanager
def _no_pydantic_plugins() -> Iterator[None]:
    """pydantic's own switch, as typer turns it while it builds its parameters' validators."""
    before = os.environ.get(_NO_PLUGINS)
    os.environ[_NO_PLUGINS] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(_NO_PLUGINS, None)
        else:
            os.environ[_NO_PLUGINS] = before
