"""A round as the console's round page reads it: its summary and one page of its recipients,
chosen by answer and by mail state, in a fixed number of queries whatever the round's size."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from accord.services.context import Context
from accord.services.dashboard import round_runs_url
from statemachines.errors import InvalidInput, NotFound
from storage.round_reads import (
    ANSWER_FILTERS,
    DELIVERY_FILTERS,
    RecipientRow,
    RoundSummary,
    round_mail_counts,
    round_recipients,
    round_summary,
)

RECIPIENTS_SHOWN = 100


@dataclass(frozen=True)
class RoundPage:
    round: RoundSummary
    recipients: list[RecipientRow]  # one page of them, by name
    page: int
    has_next: bool
    pages: int | None  # known without a count when nothing is filtered (the kept tally)
    answer: str  # the filters ("" for any)
    delivery: str
    deadline_in: dict[str, str]  # the deadline in each zone of the page's recipients
    flow_runs_url: str | None

    def query(self, number: int, **more: object) -> str:
        """The query string of page `number` with the same filters (and `more`)."""
        chosen = {"answer": self.answer, "delivery": self.delivery, **more}
        return urlencode({"page": number, **{k: v for k, v in chosen.items() if v}})


def round_page(
    ctx: Context, round_id: int, page: int = 1, *, answer: str = "", delivery: str = ""
) -> RoundPage:
    """The round's summary (its kept tally) and one page of the recipients the filters choose:
    three queries."""
    if page < 1:
        raise InvalidInput("pages are numbered from 1")
    if answer not in ("", *ANSWER_FILTERS) or delivery not in ("", *DELIVERY_FILTERS):
        raise InvalidInput("unknown filter")
    with ctx.uow(readonly=True) as uow:
        summary = round_summary(uow.connection, round_id)
        if summary is None:
            raise NotFound("no round with id {id}", id=round_id)
        found = round_recipients(
            uow.connection,
            round_id,
            offset=(page - 1) * RECIPIENTS_SHOWN,
            limit=RECIPIENTS_SHOWN + 1,
            answer=answer,
            delivery=delivery,
        )
    total = None if answer or delivery else sum(summary.tally.values())
    return RoundPage(
        round=summary,
        recipients=found[:RECIPIENTS_SHOWN],
        page=page,
        has_next=len(found) > RECIPIENTS_SHOWN,
        pages=None if total is None else max(1, -(-total // RECIPIENTS_SHOWN)),
        answer=answer,
        delivery=delivery,
        deadline_in={
            zone: f"{summary.deadline.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}"
            for zone in {r.timezone for r in found}
        },
        flow_runs_url=round_runs_url(ctx.settings.prefect_ui_url, round_id, summary.started_at),
    )


@dataclass(frozen=True)
class RoundMail:
    sent: int
    queued: int  # waiting or being sent
    failed: int


def round_mail(ctx: Context, round_id: int) -> RoundMail:
    """The round's mail by state: one query over its outbox rows (the round page loads it after
    itself, so its recipients show at once)."""
    with ctx.uow(readonly=True) as uow:
        if round_summary(uow.connection, round_id) is None:
            raise NotFound("no round with id {id}", id=round_id)
        counts = round_mail_counts(uow.connection, round_id)
    return RoundMail(counts["sent"], counts["pending"] + counts["sending"], counts["failed"])
