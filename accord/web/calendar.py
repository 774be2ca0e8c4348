"""The reply app's calendar feeds: `GET /calendar/<token>.ics`, a body's actions as iCalendar."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from accord.services.calendar import FEED_PATH, feed_calendar
from accord.services.context import Context
from statemachines.errors import NotFound

ICS = "text/calendar; charset=utf-8"


class HideFeedTokens(logging.Filter):
    """Replaces the token in uvicorn's access-log lines for a feed by `…`: it is the secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and str(args[2]).startswith(FEED_PATH):
            record.args = (args[0], args[1], f"{FEED_PATH}…", args[3], args[4])
        return True


def calendar_router(ctx: Context) -> APIRouter:
    logging.getLogger("uvicorn.access").addFilter(HideFeedTokens())
    router = APIRouter()

    @router.get(FEED_PATH + "{token}.ics", include_in_schema=False)
    async def feed(token: str) -> Response:
        """A body's follow-up actions, for a calendar application to subscribe to."""
        try:
            body = await run_in_threadpool(feed_calendar, ctx, token)
        except NotFound:
            return Response("no such calendar\n", status_code=404, media_type="text/plain")
        return Response(body, media_type=ICS, headers={"Cache-Control": "private, max-age=300"})

    return router
