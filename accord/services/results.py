"""The one place a service's typed result becomes plain data for JSON.

Services return frozen dataclasses (see docs/architecture.md, "Typed results"). The CLI's
`--json`, the flows' artifacts and the console's JSON endpoints print `plain(result)`, so the
JSON shape is the dataclass's field names. A field that callers need but JSON must not carry is
declared with `field(metadata=NOT_IN_JSON)`; one that JSON shows only when it is not None, with
`NOT_IN_JSON_IF_NONE`; one whose own keys (a dataclass's fields or a mapping's keys) are the
result's keys in JSON, with `INLINE_IN_JSON` (a revised statement's fields beside `reasked`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

NOT_IN_JSON: Mapping[str, object] = {"json": False}
NOT_IN_JSON_IF_NONE: Mapping[str, object] = {"json": "unless None"}
INLINE_IN_JSON: Mapping[str, object] = {"json": "inline"}


def plain(value: Any) -> Any:
    """Dataclasses as dicts (in field order), recursively through lists, tuples and dicts; other
    values unchanged, so datetimes print as they always have."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        found: dict[str, Any] = {}
        for field in dataclasses.fields(value):
            shown, item = field.metadata.get("json", True), getattr(value, field.name)
            if shown == "inline":
                found.update(plain(item))
            elif shown is True or (shown == "unless None" and item is not None):
                found[field.name] = plain(item)
        return found
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value
