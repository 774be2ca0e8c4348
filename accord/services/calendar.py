"""Follow-up actions as an iCalendar (RFC 5545) calendar: one all-day event on each dated
action's due date, with a link back to it.

A body follows its deadlines from Outlook or Google Calendar by subscribing to its feed, served
by the reply app at a secret URL: the body's name signed with the installation's secret key
(itsdangerous, its own salt). Nothing is stored, so a feed cannot be revoked alone: changing
ACCORD_SECRET_KEY revokes every feed (and every reply link).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Event
from itsdangerous import BadSignature, URLSafeSerializer

from accord.services.actions import ActionView, body_name, list_actions
from accord.services.context import Context
from statemachines.actions import DONE, DROPPED
from statemachines.errors import NotFound

FEED_SALT = "accord.calendar-feed.v1"
FEED_PATH = "/calendar/"
PRODUCT = "-//accord//follow-up actions//EN"


def actions_calendar(ctx: Context, *, body: str | None = None) -> tuple[bytes, int]:
    """The calendar of the dated actions (of `body`, by name or alias), and how many events."""
    actions = [a for a in list_actions(ctx, body=body) if _dated(a)]
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"accord – actions of {body}" if body else "accord – actions")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = ctx.now()
    for action in actions:
        calendar.add_component(_event(ctx, action, stamp))
    return calendar.to_ical(), len(actions)


def _dated(action: ActionView) -> bool:
    return bool(action.timeframe.due) and action.state != DROPPED


def _event(ctx: Context, action: ActionView, stamp: datetime) -> Event:
    due = date.fromisoformat(action.timeframe.due or "")
    link = action_url(ctx, action.id)
    bodies = [r.name + (" (support)" if r.role == "support" else "") for r in action.responsible]
    done = " (done)" if action.state == DONE else ""
    event = Event()
    event.add("uid", f"action-{action.id}@{urlsplit(ctx.settings.public_url).hostname}")
    event.add("dtstamp", stamp)
    event.add("dtstart", due)
    event.add("dtend", due + timedelta(days=1))
    event.add("summary", f"Due{done}: {_short(action.text)}")
    event.add(
        "description",
        "\n".join(
            [
                action.text,
                f"Timeframe: {action.timeframe.raw}",
                f"Responsible: {', '.join(bodies) or '-'}",
                f"State: {action.state}",
                link,
            ]
        ),
    )
    event.add("url", link)
    event.add("transp", "TRANSPARENT")
    event.add("status", "TENTATIVE" if action.timeframe.tentative else "CONFIRMED")
    if bodies:
        event.add("categories", bodies)
    return event


def _short(text: str) -> str:
    return text if len(text) <= 100 else text[:99] + "…"


def action_url(ctx: Context, action_id: int) -> str:
    """The action's page in the secretariat's console (behind its login)."""
    return f"{ctx.settings.public_url.rstrip('/')}/console/actions/{action_id}"


def _serializer(ctx: Context) -> URLSafeSerializer:
    return URLSafeSerializer(ctx.settings.resolve_secret_key(), salt=FEED_SALT)


def feed_url(ctx: Context, body: str) -> str:
    """The secret URL of `body`'s feed (NotFound when no body has that name or alias)."""
    with ctx.uow(readonly=True) as uow:
        name = body_name(uow, body)
    token = _serializer(ctx).dumps(name)
    return f"{ctx.settings.public_url.rstrip('/')}{FEED_PATH}{token}.ics"


def feed_calendar(ctx: Context, token: str) -> bytes:
    """The calendar a feed URL's token names; NotFound for any token not signed here."""
    try:
        body = _serializer(ctx).loads(token)
    except BadSignature:
        raise NotFound("no such calendar") from None
    if not isinstance(body, str):
        raise NotFound("no such calendar")
    return actions_calendar(ctx, body=body)[0]
