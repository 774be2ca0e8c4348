"""What a member sends is recorded as sent, once (issue 17, items 7 and 8), on SQLite and on
PostgreSQL: over real HTTP against the reply app, and through `accord replies record`.

- The same decision with the same comment, posted twice (a double-click), is recorded once: no
  second decision, decision-record entry or receipt; the member sees the answer already recorded.
- A comment over the limit the page's form states (its `maxlength`) is refused with a message
  that says the limit, never cut and called recorded.
"""

from __future__ import annotations

import re

import httpx

from statemachines.answers import COMMENT_LIMIT
from tests.cli import run
from tests.integration.test_web import BARRY, OpenRound, client, live_server, rnd

__all__ = ["client", "live_server", "rnd"]  # the reply app tests' fixtures, used here too


def _decision_entries(rnd: OpenRound) -> int:
    with rnd.ctx.uow(readonly=True) as uow:
        return sum(e.action.startswith("decision.") for e in uow.audit.entries("round"))


def _assert_recorded(rnd: OpenRound, comments: list[str | None]) -> None:
    """Exactly these answers of Barry's are recorded, each with its entry and receipt."""
    assert [d.comment for d in rnd.decisions()] == comments
    assert _decision_entries(rnd) == len(comments)
    assert rnd.receipts() == len(comments)


def test_the_same_answer_posted_twice_is_recorded_once(
    client: httpx.Client, rnd: OpenRound
) -> None:
    path = f"/r/{rnd.token()}"
    form = {"decision": "decline", "comment": "Not our topic"}
    first, second = client.post(path, data=form), client.post(path, data=form)
    assert first.status_code == second.status_code == 200
    assert "already given this answer" in second.text and "Decline" in second.text
    assert re.findall(r"<dd>(2023-[^<]+)</dd>", first.text)[0] in second.text  # the same time
    _assert_recorded(rnd, ["Not our topic"])
    assert rnd.status()["tally"]["decline"] == 1
    client.post(path, data={**form, "comment": "Not our topic at all"})
    _assert_recorded(rnd, ["Not our topic", "Not our topic at all"])


def test_the_same_answer_recorded_twice_by_the_cli_is_recorded_once(rnd: OpenRound) -> None:
    args = ("replies", "record", str(rnd.round_id), BARRY, "--decision", "abstain")
    assert run(*args, "--comment", "away").code == 0
    assert run(*args, "--comment", "away").code == 0
    _assert_recorded(rnd, ["away"])


def test_a_comment_over_the_forms_limit_is_refused_on_the_web(
    client: httpx.Client, rnd: OpenRound
) -> None:
    path = f"/r/{rnd.token()}"
    maxlength = re.search(r'<textarea[^>]*maxlength="(\d+)"', client.get(path).text)
    assert maxlength is not None and int(maxlength.group(1)) == COMMENT_LIMIT == 5000
    refused = client.post(path, data={"decision": "endorse", "comment": "x" * 5001})
    assert refused.status_code == 422
    assert "5,001 characters long; the limit is 5,000 characters" in refused.text
    rnd.assert_nothing_recorded()
    # At the limit it is kept whole; a browser sends a line break as CR LF and counts it once.
    assert client.post(path, data={"decision": "endorse", "comment": "y" * 5000}).status_code == 200
    lines = "a\r\n" * 2500  # 7,500 characters sent, 4,999 kept
    assert client.post(path, data={"decision": "decline", "comment": lines}).status_code == 200
    _assert_recorded(rnd, ["y" * 5000, "a\n" * 2499 + "a"])


def test_replies_record_refuses_a_comment_over_the_limit(rnd: OpenRound) -> None:
    args = ("replies", "record", str(rnd.round_id), BARRY, "--decision", "endorse")
    refused = run(*args, "--comment", "z" * 5001)
    assert refused.code != 0
    assert refused.stderr.strip().count("\n") == 0
    assert "the limit is 5,000 characters" in refused.stderr
    rnd.assert_nothing_recorded()
