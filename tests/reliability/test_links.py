"""Link attacks and mail scanners: what tests/integration/test_web.py does not already prove.

Covered there (and not repeated here): forged, truncated, tampered, expired, stale and closed
links, garbage and 8 kB tokens (`test_bad_links_are_refused_and_record_nothing`), scanners' GET,
HEAD and prefetches (`test_get_head_and_prefetching_record_nothing`), bad forms, 100 kB tokens.
Here: answers replayed after a change, a member's own link re-signed for another member, and
scanners opening a link after the member answered.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from itsdangerous import URLSafeSerializer

from accord.services.context import Context
from accord.services.rounds import close_round
from accord.services.statement_rounds import revise_statement
from tests.integration.test_web import BARRY, GEMMA, TEXT, OpenRound, assert_refused, open_round
from tests.servers import serving

SCANNERS = [
    {"User-Agent": "Microsoft Office Existence Discovery"},
    {"User-Agent": "Mozilla/5.0 (compatible; Barracuda Sentinel)", "Purpose": "prefetch"},
    {"Sec-Purpose": "prefetch;prerender"},
]


@pytest.fixture
def rnd(ctx: Context) -> OpenRound:
    return open_round(ctx)


@pytest.fixture
def client(ctx: Context) -> Iterator[httpx.Client]:
    with serving(ctx.settings) as base, httpx.Client(base_url=base, timeout=10) as http:
        yield http


def history(rnd: OpenRound) -> list[tuple[int, str]]:
    return [(d.member_id, d.decision) for d in rnd.decisions()]


def replay_after(change: str, rnd: OpenRound) -> None:
    if change == "revision":
        revise_statement(rnd.ctx, rnd.statement_id, TEXT + "Revised.\n")
    else:
        close_round(rnd.ctx, rnd.round_id)


@pytest.mark.parametrize("change", ["revision", "close"])
def test_an_answer_replayed_after_a_change_is_refused_and_records_nothing(
    client: httpx.Client, rnd: OpenRound, change: str
) -> None:
    path, form = f"/r/{rnd.token()}", {"decision": "endorse", "comment": "yes"}
    assert client.post(path, data=form).status_code == 200
    recorded = history(rnd)
    receipts = rnd.receipts()
    replay_after(change, rnd)
    before = rnd.status()
    assert_refused(client.post(path, data=form), 410)
    assert_refused(client.post(path, data={**form, "decision": "decline"}), 410)
    assert history(rnd) == recorded and rnd.receipts() == receipts
    assert rnd.status()["tally"] == before["tally"]
    if change == "revision":  # the earlier answer went stale with its text: nothing is counted
        assert before["tally"]["endorse"] == 0


def _resigned_for(token: str, member_id: int) -> str:
    """The member's own payload with another member id, under the original signature."""
    codec = URLSafeSerializer("the payload encoding needs no key")
    payload, _, signature = token.rpartition(".")
    claims = codec.load_payload(payload.encode())
    claims[1] = member_id
    return f"{codec.dump_payload(claims).decode()}.{signature}"


def test_a_members_link_rewritten_for_another_member_is_refused(
    client: httpx.Client, rnd: OpenRound
) -> None:
    token = _resigned_for(rnd.token(BARRY), rnd.members[GEMMA])
    assert_refused(client.get(f"/r/{token}"), 400, token)
    assert_refused(client.post(f"/r/{token}", data={"decision": "decline"}), 400, token)
    rnd.assert_nothing_recorded()


def test_scanners_opening_an_answered_link_change_nothing(
    client: httpx.Client, rnd: OpenRound
) -> None:
    path = f"/r/{rnd.token()}"
    assert client.post(path, data={"decision": "decline", "comment": "timing"}).status_code == 200
    recorded, receipts = history(rnd), rnd.receipts()
    for headers in SCANNERS:
        page = client.get(path, headers=headers)
        assert page.status_code == 200 and 'class="current">Decline<' in page.text
        assert client.head(path, headers=headers).status_code == 200
    assert history(rnd) == recorded and rnd.receipts() == receipts
