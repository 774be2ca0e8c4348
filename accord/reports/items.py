"""What every reader turns a report into: one stream of paragraphs and table rows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paragraph:
    text: str
    emphasised: bool  # where "Objective N – title" may stand: a heading, a bold line, any Word line
    heading: bool = False  # a real heading: Markdown `#`, a Word heading style, a bold line


class Continued(str):
    """A cell merged with the one above it (Word): blank as an action, its text elsewhere."""

    __slots__ = ()


Row = tuple[str, ...]
Item = Paragraph | Row


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...]
