"""Groups' settings (political statements, refused kinds) and the configurable kinds, with what
endorsing each means in English and in French."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accord.services.context import Context
from accord.services.results import plain
from accord.services.statements import known_kinds, one_line
from statemachines.errors import InvalidInput, Message
from statemachines.records import Group
from storage.kinds import Kind, KindStore


class BadKind(InvalidInput):
    """A kind's field that cannot be accepted: `field` is `name`, `meaning` or `meaning_fr`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class GroupSettings:
    name: str
    accepts_political: bool
    refused_kinds: list[str]
    auto_publish: bool
    members: int


def group_settings(group: Group, members: int) -> GroupSettings:
    return GroupSettings(
        name=group.name,
        accepts_political=bool(group.accepts_political),
        refused_kinds=sorted(group.refused_kinds or []),
        auto_publish=bool(group.auto_publish),
        members=members,
    )


def list_groups(ctx: Context) -> list[GroupSettings]:
    with ctx.uow(readonly=True) as uow:
        return [group_settings(g, uow.groups.member_count(g)) for g in uow.groups.list()]


def configure_group(
    ctx: Context,
    name: str,
    *,
    accepts_political: bool | None = None,
    refused_kinds: Sequence[str] | None = None,
    auto_publish: bool | None = None,
) -> GroupSettings:
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
        settings = group_settings(group, uow.groups.member_count(group))
        payload = {k: v for k, v in plain(settings).items() if k != "members"}
        ctx.record(
            uow,
            entity_type="group",
            entity_id=group.name,
            action="configure",
            at=ctx.now(),
            payload=payload,
        )
        uow.commit()
        return settings


def list_kinds(ctx: Context) -> list[Kind]:
    """Every kind by name, with its meanings."""
    with ctx.uow(readonly=True) as uow:
        return KindStore(uow.connection).all()


def set_kind(ctx: Context, name: str, meaning: str, meaning_fr: str | None = None) -> Kind:
    """Add or change a kind; `meaning` is the one sentence every request shows, `meaning_fr` the
    same in French for French-speaking members (None keeps the French text there is, "" removes
    it: English is then shown to everyone)."""
    name = name.strip().lower()
    if not name or not all(c.isalnum() or c == "-" for c in name):
        raise BadKind(
            "name", Message("bad kind name '{name}': use letters, digits and '-'", name=name)
        )
    meaning = _checked("meaning", meaning, "meaning")
    french = _checked("meaning_fr", meaning_fr, "French meaning") if _given(meaning_fr) else None
    with ctx.uow() as uow:
        store = KindStore(uow.connection)
        if meaning_fr is None:
            kept = store.named(name)
            french = kept.meaning_fr if kept else None
        kind = Kind(name, meaning, french)
        store.put(kind)
        ctx.record(
            uow,
            entity_type="kind",
            entity_id=name,
            action="set",
            at=ctx.now(),
            payload={"meaning": meaning, "meaning_fr": french},
        )
        uow.commit()
    return kind


def _checked(field: str, text: str, what: str) -> str:
    try:
        return one_line(text, what)
    except InvalidInput as error:
        raise BadKind(field, str(error)) from None


def _given(text: str | None) -> bool:
    return text is not None and bool(text.strip())
