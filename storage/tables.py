"""The schema, as SQLAlchemy Core tables. Alembic migrations in storage/migrations build it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect

from storage.plain import utc

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps naive text)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return utc(value)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _stamps() -> list[Column[Any]]:
    """Technical time stamps (the wall clock, not ACCORD_NOW: they say when a row was written)."""
    return [
        Column("created_at", UTCDateTime(), nullable=False, default=_utcnow),
        Column("updated_at", UTCDateTime(), nullable=False, default=_utcnow, onupdate=_utcnow),
    ]


members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("organisation", String(300)),
    Column("language", String(16), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("undeliverable", Boolean, nullable=False, default=False),
    *_stamps(),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("accepts_political", Boolean, nullable=False, default=False),
    Column("refused_kinds", JSON, nullable=False, default=list),
    Column("auto_publish", Boolean, nullable=False, default=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)

kinds = Table(
    "kinds",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("meaning", Text, nullable=False),
    Column("meaning_fr", Text, nullable=True),  # French; English is shown when it is NULL
)

meetings = Table(
    "meetings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", String(300), nullable=False),
    Column("title", String(500), nullable=False),
    Column("name", String(200), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("place", String(300)),
    Column("next_meeting_on", Date),
    Column("source_name", String(500), nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("imported_at", UTCDateTime(), nullable=False),
    UniqueConstraint("body", "starts_on", name="uq_meetings_body_starts_on"),
)

objectives = Table(
    "objectives",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("title", Text, nullable=False),
    UniqueConstraint("meeting_id", "number", name="uq_objectives_meeting_number"),
)

bodies = Table(
    "bodies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(300), nullable=False, unique=True),
    Column("contact_emails", JSON, nullable=False, default=list),
)

body_aliases = Table(
    "body_aliases",
    metadata,
    Column("alias", String(300), primary_key=True),
    Column("body_id", ForeignKey("bodies.id", ondelete="CASCADE"), nullable=False),
)

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(300), nullable=False),
    Column("role", Text),
    Column("organisation", Text),
    Column("city", String(200)),
    Column("country", String(200)),
    Column("section", String(300)),
    Column("body_id", ForeignKey("bodies.id", ondelete="SET NULL")),
    UniqueConstraint("meeting_id", "name", name="uq_people_meeting_name"),
)

actions = Table(
    "actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id", ondelete="CASCADE"), nullable=False),
    Column("objective_id", ForeignKey("objectives.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("state", String(32), nullable=False),
    Column("assessment", String(32)),
    Column("drop_reason", Text),
    Column("last_note", Text),
    Column("timeframe_raw", Text, nullable=False),
    Column("start_on", Date),
    Column("end_on", Date),
    Column("due_on", Date),
    Column("precision", String(16)),
    Column("tentative", Boolean, nullable=False, default=False),
    Column("ongoing", Boolean, nullable=False, default=False),
    Column("recurrence", String(200)),
    Column("named_meeting", String(200)),
    Column("unparsed", Boolean, nullable=False, default=False),
    Column("milestones", JSON, nullable=False, default=list),
    Column("occurrence", Integer, nullable=False, default=1),
    Column("previous_id", ForeignKey("actions.id", ondelete="SET NULL")),
    Column("version", Integer, nullable=False),
    *_stamps(),
    Index("ix_actions_state_due", "state", "due_on"),
)

action_bodies = Table(
    "action_bodies",
    metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("body_id", ForeignKey("bodies.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("position", Integer, nullable=False),
)

statements = Table(
    "statements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(200), nullable=False, unique=True),
    Column("title", String(500), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("political", Boolean, nullable=False, default=False),
    Column("state", String(32), nullable=False),
    Column("endorsed_version", Integer),
    Column("withdraw_reason", Text),
    Column("version", Integer, nullable=False),
    *_stamps(),
)

statement_versions = Table(
    "statement_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("statement_id", ForeignKey("statements.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("statement_id", "number", name="uq_statement_versions_number"),
)

rounds = Table(
    "rounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("statement_id", ForeignKey("statements.id", ondelete="CASCADE"), nullable=False),
    Column("group_id", ForeignKey("groups.id"), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("rule", String(32), nullable=False),
    Column("deadline", UTCDateTime(), nullable=False),
    Column("text_sha256", String(64), nullable=False),
    Column("version_number", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("outcome", String(32)),
    Column("close_reason", String(32)),
    Column("closed_at", UTCDateTime()),
    Column("flagged_political", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False),
    # The tally of the recipients' current answers, moved with each answer in the same
    # transaction, so an answer reads one row instead of counting the whole round.
    *(
        Column(f"tally_{key}", Integer, nullable=False, server_default="0")
        for key in ("endorse", "decline", "abstain", "pending")
    ),
    *_stamps(),
    Index("ix_rounds_state_deadline", "state", "deadline"),
)

recipients = Table(
    "recipients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("round_id", ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("reply_key", String(32), nullable=False, unique=True),
    Column("decision", String(16)),
    Column("decision_sha256", String(64)),
    Column("comment", Text),
    Column("decided_at", UTCDateTime()),
    Column("reminders_sent", Integer, nullable=False, default=0),
    Column("last_reminded_at", UTCDateTime()),
    # When the member was last asked (invitation, or a revision), on accord's clock (ACCORD_NOW):
    # the reminder schedule starts there (statemachines.reminders).
    Column("asked_at", UTCDateTime()),
    UniqueConstraint("round_id", "member_id", name="uq_recipients_round_member"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("round_id", ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", ForeignKey("members.id"), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("comment", Text),
    Column("channel", String(16), nullable=False),
    Column("text_sha256", String(64), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Index("ix_decisions_round_member", "round_id", "member_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("recorded_at", String(40), nullable=False),
    Column("actor", String(320), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("text_sha256", String(64)),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False, unique=True),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("purpose", String(32), nullable=False),
    Column("round_id", ForeignKey("rounds.id", ondelete="CASCADE")),
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE")),
    Column("statement_id", ForeignKey("statements.id", ondelete="CASCADE")),
    Column("to_addr", String(320), nullable=False),
    Column("message_id", String(200), nullable=False, unique=True),
    Column("thread_id", String(200)),
    Column("data", JSON, nullable=False, default=dict),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("claimed_until", UTCDateTime()),
    Column("sent_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False, default=_utcnow),
    Index("ix_outbox_status_id", "status", "id"),
    Index("ix_outbox_round_member", "round_id", "member_id"),  # migration 0006: the console
)

# One row (id 1): the messages granted to senders in the current minute and day (window numbers
# counted from the epoch), and a pause after the server throttled. accord.services.pacing.
smtp_budget = Table(
    "smtp_budget",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("minute_window", BigInteger, nullable=False),
    Column("minute_sent", Integer, nullable=False),
    Column("day_window", BigInteger, nullable=False),
    Column("day_sent", Integer, nullable=False),
    Column("paused_until", UTCDateTime()),
)

inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("message_key", String(300), primary_key=True),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("sender", String(320)),
    Column("outcome", String(32), nullable=False),
    Column("round_id", ForeignKey("rounds.id", ondelete="SET NULL")),
    Column("member_id", ForeignKey("members.id", ondelete="SET NULL")),
    Column("detail", Text),
)

# The secretariat's console accounts (migration 0006).
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200)),
    Column("language", String(8)),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("token_sha256", String(64), unique=True),
    Column("token_expires_at", UTCDateTime()),
    *_stamps(),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("email", String(320), nullable=False),
    Column("address", String(64), nullable=False),
    Index("ix_login_failures_email_at", "email", "at"),
    Index("ix_login_failures_address_at", "address", "at"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("title", String(300), nullable=False),
    Column("state", String(16), nullable=False),
    Column("done", Integer, nullable=False, server_default="0"),
    Column("total", Integer, nullable=False, server_default="0"),
    Column("message", Text),
    Column("result", String(300)),
    Column("origin", String(300)),
    Column("started_by", String(320), nullable=False),
    Column("runner", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Index("ix_jobs_state", "state"),
)
