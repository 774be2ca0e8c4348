"""The PDF reader on damaged files: a report is read or refused with one line, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.reports.parse import ParsedReport, parse_report
from statemachines.errors import InvalidInput

CORPUS = Path(__file__).parents[1] / "fixtures" / "reports"
TRACKER = (CORPUS / "implementation_tracker_2019-03.pdf").read_bytes()


def _read_or_refused(path: Path) -> None:
    try:
        assert isinstance(parse_report(path), ParsedReport)
    except InvalidInput as error:
        assert "\n" not in str(error)


def test_a_scanned_pdf_is_refused_with_one_line() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_report(CORPUS / "scanned.pdf")
    assert str(caught.value) == (
        "scanned.pdf has no text layer (a scanned document?): run it through OCR first"
    )


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9])
def test_a_truncated_pdf_is_read_or_refused(tmp_path: Path, cut: float) -> None:
    path = tmp_path / "cut.pdf"
    path.write_bytes(TRACKER[: int(len(TRACKER) * cut)])
    _read_or_refused(path)


@pytest.mark.parametrize("seed", range(8))
def test_a_pdf_with_damaged_bytes_is_read_or_refused(tmp_path: Path, seed: int) -> None:
    data = bytearray(TRACKER)
    for n in range(40):
        data[(seed * 7919 + n * 104729) % len(data)] ^= 0x5A
    path = tmp_path / "damaged.pdf"
    path.write_bytes(bytes(data))
    _read_or_refused(path)


def test_text_that_is_not_a_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_text("Agreed actions\tTimeframe\tResponsible body\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"report\.pdf is not a readable PDF file"):
        parse_report(path)
