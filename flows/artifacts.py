"""The artifacts operators read in the Prefect UI: a round's tally, the follow-up table.

Artifacts hold counts, names and texts of the work, never an address's reply key, a link token or
a setting.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from prefect.artifacts import Artifact, acreate_markdown_artifact, acreate_table_artifact

from accord.services.operations import RoundFacts


async def tally_table(rnd: RoundFacts, *, only_if_changed: bool = False) -> None:
    """The round's tally and delivery, one row per decision (keyed: the UI keeps the history).

    The sweep runs every 5 minutes: with `only_if_changed` it adds a version only when the
    tally, the delivery or the state moved."""
    rows = [{"decision": name, "members": count} for name, count in rnd.tally.items()]
    rows += [{"decision": f"mail {name}", "members": count} for name, count in rnd.delivery.items()]
    key = f"round-{rnd.id}-tally"
    outcome = f", outcome {rnd.outcome}" if rnd.outcome else ""
    description = (
        f"Round {rnd.id} of {rnd.slug} v{rnd.version} to {rnd.group} ({rnd.mode}, rule "
        f"{rnd.rule}, deadline {rnd.deadline:%Y-%m-%d %H:%M} UTC): {rnd.state}{outcome}"
    )
    if only_if_changed and await _unchanged(key, rows, description):
        return
    await acreate_table_artifact(rows, key=key, description=description)


async def _unchanged(key: str, rows: list[dict[str, Any]], description: str) -> bool:
    latest = await Artifact.aget(key)
    if latest is None:
        return False
    return latest.description == description and latest.data == json.dumps(rows)


async def rows_table(key: str, rows: Sequence[dict[str, Any]], description: str) -> None:
    if rows:
        await acreate_table_artifact(list(rows), key=key, description=description)
    else:
        await acreate_markdown_artifact(f"_{description}: none._", key=key, description=description)
