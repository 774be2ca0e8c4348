"""The one place a service's typed result becomes plain data for JSON.

Services return frozen dataclasses (see docs/architecture.md, "Typed results"). The CLI's
`--json`, the flows' artifacts and the console's JSON endpoints print `plain(result)`, so the
JSON shape is the dataclass's field names. A field that callers need but JSON must not carry is
declared with `field(metadata=NOT_IN_JSON)`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

NOT_IN_JSON: Mapping[str, bool] = {"json": False}


def plain(value: Any) -> Any:
    """Dataclasses as dicts (in field order), recursively through lists, tuples and dicts; other
    values unchanged, so datetimes print as they always have."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: plain(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if field.metadata.get("json", True)
        }
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value
