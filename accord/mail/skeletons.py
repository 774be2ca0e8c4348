"""Skeletons kept across batches, by the content their recipients share.

A round's fan-out renders its skeleton once per batch: a batch holds hundreds of the round's
mails. Receipts come a few at a time (the reply app's courier sends a burst's receipts in small
batches), so a batch's own skeletons would seldom be used twice; a `SkeletonCache` keeps them for
the process's life instead (the last KEPT). It finds a skeleton by everything in a mail's context
but its recipient's own values: two contexts that share that content render to the same skeleton,
whatever batch, round or settings they come from. A recipient's empty values are part of the
shared content too (a template's `or` turns them into words, which a slot cannot).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from accord.mail.render import Rendered, Skeleton, language_for, prepare, render

KEPT = 64


class SkeletonCache:
    """Renders mail through skeletons kept by shared content; thread-safe (the courier renders
    in a worker thread)."""

    def __init__(self, names: Sequence[str], *, rendered_in_full: int) -> None:
        """`names`: the dotted names of a recipient's own values; `rendered_in_full`: how many
        mails of the same shared content are rendered in full before a skeleton is made (making
        one costs three renders)."""
        self.names = tuple(names)
        self.rendered_in_full = rendered_in_full
        self._lock = threading.Lock()
        self._skeletons: OrderedDict[Hashable, Skeleton | None] = OrderedDict()
        self._seen: OrderedDict[Hashable, int] = OrderedDict()

    def render(self, purpose: str, language: str, context: Mapping[str, Any]) -> Rendered:
        """The same mail as `render(purpose, language, context)`."""
        names = tuple(n for n in self.names if _value(context, n))
        key = (purpose, language_for(language), names, _shared(context, frozenset(names)))
        with self._lock:
            ready = key in self._skeletons
            if ready:
                self._skeletons.move_to_end(key)
                skeleton = self._skeletons[key]
            else:
                seen = self._seen.pop(key, 0) + 1
                _keep(self._seen, key, seen)
        if not ready:
            if seen <= self.rendered_in_full:
                return render(purpose, language, context)
            skeleton = prepare(purpose, language, context, names)
            with self._lock:
                _keep(self._skeletons, key, skeleton)
                self._seen.pop(key, None)
        filled = skeleton.fill_from(context) if skeleton is not None else None
        return filled or render(purpose, language, context)


def _keep(kept: OrderedDict[Hashable, Any], key: Hashable, value: Any) -> None:
    kept[key] = value
    while len(kept) > KEPT:
        kept.popitem(last=False)


def _value(context: Mapping[str, Any], name: str) -> Any:
    value: Any = context
    for key in name.split("."):
        value = value[key]
    return value


def _shared(value: Any, left_out: frozenset[str], path: str = "") -> Hashable:
    """`value` (a context: dicts, lists and plain values) as nested tuples, without the values
    at the dotted names left out."""
    kind = type(value)
    if kind is dict:
        return tuple(
            (key, _shared(item, left_out, f"{path}{key}."))
            for key, item in value.items()
            if f"{path}{key}" not in left_out
        )
    if kind is list or kind is tuple:
        return tuple(_shared(item, left_out, path) for item in value)
    return value  # type: ignore[no-any-return]
