"""The decision record: browse it newest first, filter by entity, verify the hash chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from accord.services.member_pages import browse_record, verify_record
from accord.web.console.pages import Pages
from accord.web.console.security import GUARDED, who

router = APIRouter(dependencies=GUARDED)


def _pages(request: Request) -> Pages:
    return request.app.state.pages  # type: ignore[no-any-return]


@router.get("/record")
def record(
    request: Request,
    entity_type: Annotated[str, Query(max_length=32)] = "",
    entity_id: Annotated[str, Query(max_length=64)] = "",
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    current = who(request)
    page = browse_record(current.ctx, entity_type=entity_type, entity_id=entity_id, before=before)
    filters = {"entity_type": entity_type, "entity_id": entity_id}
    return _pages(request).render(
        request, "record", current.user, page=page, filters=filters, verification=None
    )


@router.get("/record/verify")
def verify(request: Request) -> Response:
    """Recompute the chain (reads only: a viewer may run it too)."""
    current = who(request)
    page = browse_record(current.ctx)
    filters = {"entity_type": "", "entity_id": ""}
    result = verify_record(current.ctx)
    return _pages(request).render(
        request, "record", current.user, page=page, filters=filters, verification=result
    )
