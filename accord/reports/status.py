"""A tracker's Status cell as an action state, only where it clearly says one (English, French)."""

from __future__ import annotations

import re

from accord.reports.columns import normalised
from statemachines.actions import DONE, DROPPED, IN_PROGRESS, PROPOSED

# Tried in order: "Not started" before "started", "Partially completed" before "completed".
_STATES = tuple(
    (re.compile(rf"^(?:{pattern})(?:\s|$)"), state)
    for pattern, state in (
        (
            r"not (?:yet )?started|not yet initiated|pending|planned|open|to do|non commence"
            r"|pas (?:encore )?commence|a venir|a faire|prevu",
            PROPOSED,
        ),
        (
            r"partially (?:implemented|completed|done)|ongoing|on going|in progress|under ?way"
            r"|started|initiated|in hand|en cours|commence|partiellement (?:realise|mis en oeuvre)",
            IN_PROGRESS,
        ),
        (
            r"completed?|done|closed|achieved|implemented|finished|fully implemented|termine"
            r"|acheve|realise|fait|clos|mis en oeuvre",
            DONE,
        ),
        (r"cancelled|canceled|dropped|withdrawn|abandoned|annule|abandonne", DROPPED),
    )
)


def state_of(status: str) -> str | None:
    """The state a Status cell names ("Completed" is done), or None when it is not clear."""
    words = normalised(status)
    return next((state for pattern, state in _STATES if pattern.match(words)), None)
