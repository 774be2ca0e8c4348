"""The services' refusals in the user's language: a domain error keeps its English template and
values (statemachines.errors.Message); the console translates the template and writes the values
in, while the CLI prints the English line as before."""

from __future__ import annotations

import html

from accord.services.context import Context
from accord.services.members import import_members
from accord.services.statements import draft_statement
from tests.cli import run
from tests.conftest import FIXTURES
from tests.console.helpers import SECRETARIAT, Console
from tests.console.test_statements import TEXT

ROUND = {"group": "Advisory Group", "rule": "majority", "deadline": "2023-10-20T18:00"}


def political_statement(ctx: Context) -> int:
    import_members(ctx, FIXTURES / "members.csv")
    drafted = draft_statement(
        ctx, title="Position", kind="awareness-day", body=TEXT, political=True
    )
    return drafted.id


def refusal(console: Console, statement_id: int, **form: str) -> str:
    page = f"/console/statements/{statement_id}"
    refused = console.post(f"{page}/rounds", {**ROUND, **form}, page=page)
    assert refused.status_code == 400
    return html.unescape(refused.text)


def test_a_french_user_reads_why_a_round_is_refused_in_french(ctx: Context, base_url: str) -> None:
    statement_id = political_statement(ctx)
    console = Console.at(base_url, **{"Accept-Language": "fr-FR,fr;q=0.9"})
    console.log_in(SECRETARIAT)
    shown = refusal(console, statement_id)
    assert (
        "impossible de faire circuler : le groupe « Advisory Group » n'accepte pas les "
        "déclarations politiques" in shown
    )
    assert "la règle min:20 ne peut jamais être atteinte" in refusal(
        console, statement_id, rule="min:20"
    )
    assert "échéance invalide « tomorrow »" in refusal(console, statement_id, deadline="tomorrow")
    assert "règle inconnue « most »" in refusal(console, statement_id, rule="most")
    console.http.close()


def test_an_english_user_and_the_cli_read_the_english_reason(
    ctx: Context, console: Console
) -> None:
    statement_id = political_statement(ctx)
    console.log_in(SECRETARIAT)
    reason = "cannot circulate: group 'Advisory Group' does not accept political statements"
    assert reason in refusal(console, statement_id)
    cli = run(
        "rounds", "start", str(statement_id), "--group", "Advisory Group", "--rule", "majority",
        "--deadline", "2023-10-20T18:00",
    )  # fmt: skip
    assert cli.code != 0 and cli.stderr.strip() == f"error: {reason}"
