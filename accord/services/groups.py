"""Groups' settings (political statements, refused kinds) and the configurable kinds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete

from accord.services.context import Context
from accord.services.statements import known_kinds, one_line
from statemachines.errors import InvalidInput
from statemachines.records import Group
from storage import tables as t


def group_dict(group: Group, members: int) -> dict[str, Any]:
    return {
        "name": group.name,
        "accepts_political": bool(group.accepts_political),
        "refused_kinds": sorted(group.refused_kinds or []),
        "auto_publish": bool(group.auto_publish),
        "members": members,
    }


def list_groups(ctx: Context) -> list[dict[str, Any]]:
    with ctx.uow(readonly=True) as uow:
        return [group_dict(g, uow.groups.member_count(g)) for g in uow.groups.list()]


def configure_group(
    ctx: Context,
    name: str,
    *,
    accepts_political: bool | None = None,
    refused_kinds: Sequence[str] | None = None,
    auto_publish: bool | None = None,
) -> dict[str, Any]:
    with ctx.uow() as uow:
        group = uow.groups.named(name)
        if refused_kinds is not None:
            unknown = sorted(set(refused_kinds) - set(known_kinds(uow)))
            if unknown:
                raise InvalidInput("unknown kind(s): {kinds}", kinds=", ".join(unknown))
            group.refused_kinds = sorted(set(refused_kinds))
        if accepts_political is not None:
            group.accepts_political = accepts_political
        if auto_publish is not None:
            group.auto_publish = auto_publish
        settings = group_dict(group, uow.groups.member_count(group))
        ctx.record(
            uow,
            entity_type="group",
            entity_id=group.name,
            action="configure",
            at=ctx.now(),
            payload={k: v for k, v in settings.items() if k != "members"},
        )
        uow.commit()
        return settings


def list_kinds(ctx: Context) -> dict[str, str]:
    with ctx.uow(readonly=True) as uow:
        return known_kinds(uow)


def set_kind(ctx: Context, name: str, meaning: str) -> dict[str, str]:
    """Add or change a kind; `meaning` is the one sentence every request shows."""
    name = name.strip().lower()
    if not name or not all(c.isalnum() or c == "-" for c in name):
        raise InvalidInput("bad kind name '{name}': use letters, digits and '-'", name=name)
    meaning = one_line(meaning, "meaning")
    with ctx.uow() as uow:
        uow.session.execute(delete(t.kinds).where(t.kinds.c.name == name))
        uow.session.execute(t.kinds.insert().values(name=name, meaning=meaning))
        ctx.record(
            uow,
            entity_type="kind",
            entity_id=name,
            action="set",
            at=ctx.now(),
            payload={"meaning": meaning},
        )
        uow.commit()
    return {"name": name, "meaning": meaning}
