"""`accord groups ...` and `accord kinds ...`"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from accord.cli.common import context, print_json

if TYPE_CHECKING:
    from accord.services.groups import GroupSettings

app = typer.Typer(
    help="Groups (from the members' groups column) and what they accept.", no_args_is_help=True
)
kinds_app = typer.Typer(
    help="Kinds of statement and what endorsing each means.", no_args_is_help=True
)


@app.command("list")
def list_(json_: bool = typer.Option(False, "--json", help="Print a JSON list.")) -> None:
    """Groups with their settings and member counts."""
    from accord.services.groups import list_groups

    groups = list_groups(context())
    if json_:
        print_json(groups)
        return
    for g in groups:
        typer.echo(_group_line(g))


def _group_line(group: GroupSettings) -> str:
    political = "accepts political" if group.accepts_political else "no political"
    refused = ", ".join(group.refused_kinds) or "none"
    return f"{group.name:<30} {group.members:>4} members  {political}  refused kinds: {refused}"


@app.command()
def configure(
    name: str = typer.Argument(..., help="The group's name."),
    political: bool = typer.Option(
        None,
        "--accept-political/--refuse-political",
        help="Whether political statements may be sent to it.",
    ),
    refuse_kinds: str = typer.Option(
        None, "--refuse-kinds", help="Comma-separated kinds it refuses ('' for none)."
    ),
    auto_publish: bool = typer.Option(
        None, "--auto-publish/--no-auto-publish", help="Publish as soon as a round endorses."
    ),
    json_: bool = typer.Option(False, "--json", help="Print the settings as JSON."),
) -> None:
    """Change a group's settings."""
    from accord.services.groups import configure_group

    kinds = (
        None if refuse_kinds is None else [k.strip() for k in refuse_kinds.split(",") if k.strip()]
    )
    result = configure_group(
        context(), name, accepts_political=political, refused_kinds=kinds, auto_publish=auto_publish
    )
    print_json(result) if json_ else typer.echo(_group_line(result))


@kinds_app.command("list")
def kinds_list(json_: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Kinds and the sentence each request shows, in English and in French."""
    from accord.services.groups import list_kinds

    kinds = list_kinds(context())
    if json_:
        print_json(kinds)
        return
    for kind in kinds:
        typer.echo(f"{kind.name}: {kind.meaning}")
        if kind.meaning_fr:
            typer.echo(f"{' ' * len(kind.name)}  (fr) {kind.meaning_fr}")


@kinds_app.command("set")
def kinds_set(
    name: str = typer.Argument(...),
    meaning: str = typer.Option(..., "--meaning", help="One sentence: what endorsing means."),
    meaning_fr: str = typer.Option(
        None,
        "--meaning-fr",
        help="The same in French, for members whose language is French (kept when left out; "
        "'' removes it, and French members then read the English).",
    ),
) -> None:
    """Add a kind or change what it means."""
    from accord.services.groups import set_kind

    kind = set_kind(context(), name, meaning, meaning_fr)
    typer.echo(f"{kind.name}: {kind.meaning}")
    if kind.meaning_fr:
        typer.echo(f"{' ' * len(kind.name)}  (fr) {kind.meaning_fr}")
