"""The report parser on the real sample in its three formats, on small variants, on bad input."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.document import Document
from hypothesis import given
from hypothesis import strategies as st

from accord.reports.parse import (
    ActionRow,
    Objective,
    ParsedReport,
    Participant,
    parse_docx,
    parse_markdown,
    parse_report,
    parse_text,
)
from statemachines.errors import InvalidInput

SAMPLE = Path(__file__).parents[2] / "accord" / "samples" / "icc_advisory_group_2023-07.txt"
SAMPLE_TEXT = SAMPLE.read_text(encoding="utf-8")
OBJECTIVE_LINE = re.compile(r"- \*\*(Objective .*)\*\*")
HEADINGS = {"Intercultural Cities (ICC) Advisory Group": 0, "First meeting": 1}
HEADER = "Agreed actions\tTimeframe for implementation\tResponsible body"
MEETING = "ICC Advisory Group\n\nFirst meeting\n\n4-5 July 2023 – Strasbourg, France\n\n"


def to_markdown(text: str) -> str:
    """The txt report as Markdown: `#` headings and one GitHub pipe table per table."""
    lines: list[str] = []
    in_table = False
    for line in text.splitlines():
        if "\t" in line:
            cells = [cell.strip().replace("|", "\\|") for cell in line.split("\t")]
            lines.append("| " + " | ".join(cells) + " |")
            if cells[0].startswith("Agreed action"):
                lines.append("|" + " --- |" * len(cells))
            in_table = True
        elif line.strip() or not in_table:
            if in_table:
                lines.append("")
            in_table = False
            lines.append(_markdown_line(line))
    return "\n".join(lines) + "\n"


def _markdown_line(line: str) -> str:
    if objective := OBJECTIVE_LINE.fullmatch(line):
        return "### " + objective[1]
    if line in HEADINGS:
        return "#" * (HEADINGS[line] + 1) + " " + line
    return line


def to_docx(text: str, path: Path) -> Path:
    """The txt report as Word: headings, list paragraphs, one Word table per run of rows.

    A table's rows after a blank line go into a table of their own, without a header.
    """
    document = docx.Document()
    rows: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if "\t" in line:
            rows.append([cell.strip() for cell in line.split("\t")])
            continue
        if rows:
            _add_table(document, rows)
            rows = []
        _add_paragraph(document, line)
    document.save(str(path))
    return path


def _add_table(document: Document, rows: list[list[str]]) -> None:
    table = document.add_table(rows=0, cols=max(len(row) for row in rows))
    for cells in rows:
        for cell, text in zip(table.add_row().cells, cells, strict=False):
            cell.text = text


def _add_paragraph(document: Document, line: str) -> None:
    if objective := OBJECTIVE_LINE.fullmatch(line):
        document.add_heading(objective[1], level=2)
    elif line in HEADINGS:
        document.add_heading(line, level=HEADINGS[line])
    elif line.startswith("- "):
        document.add_paragraph(line.removeprefix("- ").removeprefix("❖ "), style="List Bullet")
    else:
        document.add_paragraph(line)


def report(*tables: str) -> str:
    """A minimal report: the meeting header, then the given objectives and tables."""
    return MEETING + "\n\n".join(tables) + "\n"


@pytest.fixture(scope="module")
def sample() -> ParsedReport:
    return parse_report(SAMPLE)


# The sample ---------------------------------------------------------------------------------


def test_sample_header(sample: ParsedReport) -> None:
    assert sample.body == "Intercultural Cities (ICC) Advisory Group"
    assert sample.meeting_name == "First meeting"
    assert sample.title == (
        "Intercultural Cities (ICC) Advisory Group – First meeting – "
        "Summary report and follow up actions"
    )
    assert (sample.starts_on, sample.ends_on) == (date(2023, 7, 4), date(2023, 7, 5))
    assert sample.place == "Strasbourg, France"
    assert sample.next_meeting_on == date(2023, 11, 13)


def test_sample_has_21_actions_under_objectives_1_2_3_4_6(sample: ParsedReport) -> None:
    counts = {objective.number: len(objective.actions) for objective in sample.objectives}
    assert counts == {1: 2, 2: 12, 3: 4, 4: 2, 6: 1}
    assert sum(counts.values()) == 21


def test_sample_objective_titles(sample: ParsedReport) -> None:
    titles = {objective.number: objective.title for objective in sample.objectives}
    assert titles[1] == (
        "Guide the strategic and operational framework of the ICC programme and provide a "
        "shared (Council of Europe Secretariat – member cities) governance to it"
    )
    assert titles[4].endswith("explore ways to secure additional funding to the programme")
    assert not any(title.endswith(".") or "Objective" in title for title in titles.values())


def test_sample_milestone_row_joins_the_action_above(sample: ParsedReport) -> None:
    objective_2 = sample.objectives[1]
    with_milestones = [action for action in objective_2.actions if action.milestones]
    assert len(with_milestones) == 1
    action = with_milestones[0]
    assert action.timeframe == "Mid-October 2023"
    assert action.responsible == "ICC Secretariat"
    assert action.milestones == (("13 November 2023", "ICC Secretariat"),)
    assert action.text.startswith("The ICC Secretariat will revise/rephrase the questions")


def test_sample_table_goes_on_after_a_blank_line(sample: ParsedReport) -> None:
    actions = sample.objectives[1].actions
    assert [action.timeframe for action in actions[:5]] == [
        "End of September 2023",
        "September 2023",
        "By next meeting (13 November 2023)",
        "January 2024",
        "July 2024",
    ]
    assert actions[3].text.startswith("Create a webpage with the recorded videos")


def test_sample_cells_are_raw(sample: ParsedReport) -> None:
    first = sample.objectives[1].actions[0]
    assert first.responsible == "Bradford Stavanger Reykjavik With the support of ICC Secretariat"
    last = sample.objectives[1].actions[-1]
    assert last.timeframe == (
        "Spring 2024 (tentative, availability of the city of Bradford to be confirmed)"
    )
    assert sample.objectives[2].actions[2].responsible == "Members of the Advisory Group"


def test_sample_participants(sample: ParsedReport) -> None:
    people = {participant.name: participant for participant in sample.participants}
    assert len(sample.participants) == 12
    assert people["Barry Cusack"] == Participant(
        name="Barry Cusack",
        role="Project officer",
        organisation="Bradford for everyone",
        city="Bradford",
        country="United Kingdom",
        section="Advisory Group members",
    )
    assert people["Gemma Pinyol-Jiménez"] == Participant(
        "Gemma Pinyol-Jiménez",
        "Coordinator of RECI - Spanish Network of Intercultural Cities",
        None,
        None,
        None,
        "Advisory Group members",
    )
    assert (people["Gregory Jaquet"].city, people["Gregory Jaquet"].country) == (
        "Neuchâtel",
        "Switzerland",
    )
    silvia = people["Silvia Carballo Paz"]
    assert (silvia.city, silvia.country, silvia.organisation) == ("San Sebastian", "Spain", None)
    assert silvia.role == (
        "Head of department of Gender Equality, Development Cooperation, "
        "Cultural Diversity and Human Rights"
    )
    assert people["Vesna Haracic"].city == "Salisbury"
    catherine = people["Catherine Wolf"]
    assert (catherine.role, catherine.city, catherine.country) == ("Project Officer", None, None)
    assert catherine.section == "Council of Europe/ICC Secretariat"


def test_sample_participants_carry_no_email(sample: ParsedReport) -> None:
    fields = [value for p in sample.participants for value in vars(p).values() if value]
    assert not any("@" in value for value in fields)


def test_markdown_and_docx_give_the_same_report(sample: ParsedReport, tmp_path: Path) -> None:
    markdown = tmp_path / "report.md"
    markdown.write_text(to_markdown(SAMPLE_TEXT), encoding="utf-8")
    word = to_docx(SAMPLE_TEXT, tmp_path / "report.docx")
    assert parse_report(markdown) == sample
    assert parse_report(word) == sample
    assert parse_docx(word).objectives == sample.objectives


def test_uppercase_suffix_is_accepted(sample: ParsedReport, tmp_path: Path) -> None:
    path = tmp_path / "REPORT.TXT"
    path.write_text(SAMPLE_TEXT, encoding="utf-8")
    assert parse_report(path) == sample


# Variants -----------------------------------------------------------------------------------


def test_singular_header_hyphen_dash_and_bold_line_without_bullet() -> None:
    parsed = parse_text(
        report(
            "**Objective 7 - Do things.**", "Agreed action\tTimeframe\tResponsible body\nA\tT\tR"
        )
    )
    assert [(o.number, o.title) for o in parsed.objectives] == [(7, "Do things")]
    assert parsed.objectives[0].actions == (ActionRow("A", "T", "R"),)


def test_only_bold_lines_are_objective_headings_in_text() -> None:
    text = report("**Objective 1 – One**", "Objective 2 – not a heading", f"{HEADER}\nA\tT\tR")
    assert [o.number for o in parse_text(text).objectives] == [1]


def test_objectives_without_actions_are_left_out() -> None:
    text = report("**Objective 1 – One**", "**Objective 2 – Two**", f"{HEADER}\nA\tT\tR")
    assert [o.number for o in parse_text(text).objectives] == [2]


def test_a_paragraph_ends_a_table() -> None:
    """Rows of another width after it are another table; rows of its width would go on with it
    (test_a_table_without_a_header_after_an_action_table_goes_on_with_it)."""
    text = report("**Objective 1 – One**", f"{HEADER}\nA\tT\tR", "Some prose.", "B\tT")
    assert [a.text for a in parse_text(text).objectives[0].actions] == ["A"]


def test_a_header_row_starts_a_new_table_under_the_same_objective() -> None:
    text = report("**Objective 1 – One**", f"{HEADER}\nA\tT\tR", f"{HEADER}\nB\tT\tR")
    assert [a.text for a in parse_text(text).objectives[0].actions] == ["A", "B"]


def test_an_objective_named_again_gathers_its_actions() -> None:
    text = report(
        "**Objective 1 – One**", f"{HEADER}\nA\tT\tR", "**Objective 1 – Again**", f"{HEADER}\nB\t\t"
    )
    (objective,) = parse_text(text).objectives
    assert (objective.title, [a.text for a in objective.actions]) == ("One", ["A", "B"])


def test_columns_are_found_by_their_header() -> None:
    text = report("**Objective 1 – One**", "Agreed actions\tResponsible body\tDeadline\nA\tR\tT")
    assert parse_text(text).objectives[0].actions == (ActionRow("A", "T", "R"),)


def test_several_milestones_and_short_rows() -> None:
    text = report("**Objective 1 – One**", f"{HEADER}\nA\tT\tR\n\tT2\tR2\n\tT3\nB\t")
    first, second = parse_text(text).objectives[0].actions
    assert first.milestones == (("T2", "R2"), ("T3", ""))
    assert second == ActionRow("B", "", "")


def test_header_on_one_line_and_single_day_meeting() -> None:
    text = "ICC Advisory Group – Second meeting\n13 November 2023\n**Objective 1 – One**\n"
    parsed = parse_text(text + f"{HEADER}\nA\tT\tR\n")
    assert (parsed.body, parsed.meeting_name) == ("ICC Advisory Group", "Second meeting")
    assert parsed.title == "ICC Advisory Group – Second meeting"
    assert (parsed.starts_on, parsed.ends_on, parsed.place) == (
        date(2023, 11, 13),
        date(2023, 11, 13),
        None,
    )


@pytest.mark.parametrize(
    ("line", "starts_on", "ends_on", "place"),
    [
        ("30 June – 1 July 2023, Oslo", date(2023, 6, 30), date(2023, 7, 1), "Oslo"),
        ("30 December 2023 - 2 Jan 2024", date(2023, 12, 30), date(2024, 1, 2), None),
        ("4–5 Sept. 2023 — online", date(2023, 9, 4), date(2023, 9, 5), "online"),
    ],
)
def test_meeting_date_forms(line: str, starts_on: date, ends_on: date, place: str | None) -> None:
    text = f"Body\nFirst meeting\n{line}\n**Objective 1 – One**\n{HEADER}\nA\tT\tR\n"
    parsed = parse_text(text)
    assert (parsed.starts_on, parsed.ends_on, parsed.place) == (starts_on, ends_on, place)


def test_next_meeting_is_none_without_a_later_date() -> None:
    text = report("(our last meeting (1 July 2023) was fine)", "**Objective 1 – One**")
    assert parse_text(text + f"{HEADER}\nA\tT\tR\n").next_meeting_on is None


def test_markdown_bold_objective_lines_and_escaped_pipes() -> None:
    text = report(
        "- **Objective 3 – Three**",
        "| Agreed actions | Timeframe | Responsible body |\n|:--|:--|--:|\n"
        "| Use a \\| pipe | Soon | ICC Secretariat |\n|  | Later | RECI |",
    )
    (objective,) = parse_markdown(text).objectives
    assert objective.actions == (
        ActionRow("Use a | pipe", "Soon", "ICC Secretariat", (("Later", "RECI"),)),
    )


def test_markdown_plain_objective_line_is_not_a_heading() -> None:
    text = report(
        "Objective 3 – Three", "| Agreed actions | Timeframe | Responsible |\n| A | T | R |"
    )
    assert parse_markdown(text).objectives == (Objective(0, "", (ActionRow("A", "T", "R"),)),)


def test_docx_vertically_merged_action_cell_gives_a_milestone(tmp_path: Path) -> None:
    document = docx.Document()
    for line in ("Body", "First meeting", "4-5 July 2023", "Objective 1 – One"):
        document.add_paragraph(line)
    table = document.add_table(rows=3, cols=3)
    contents = [HEADER.split("\t"), ["A", "T", "R"], ["", "T2", "R2"]]
    for row, cells in zip(table.rows, contents, strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    table.cell(1, 0).merge(table.cell(2, 0))
    document.save(str(tmp_path / "merged.docx"))
    (objective,) = parse_docx(tmp_path / "merged.docx").objectives
    assert objective.actions == (ActionRow("A", "T", "R", (("T2", "R2"),)),)


def test_docx_line_breaks_separate_lines(tmp_path: Path) -> None:
    document = docx.Document()
    header = document.add_paragraph("Body")
    for line in ("First meeting", "4-5 July 2023 – Oslo"):
        header.add_run().add_break()
        header.add_run(line)
    document.add_paragraph("Objective 1 – One")
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[1].cells, "ATR", strict=True):
        cell.text = text
    table.cell(0, 0).text = "Agreed actions"
    document.save(str(tmp_path / "breaks.docx"))
    parsed = parse_docx(tmp_path / "breaks.docx")
    assert (parsed.body, parsed.meeting_name, parsed.place) == ("Body", "First meeting", "Oslo")
    assert parsed.objectives[0].actions == (ActionRow("A", "T", "R"),)


# Bad input ----------------------------------------------------------------------------------


def _raises(path: Path, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_report(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["empty.txt", "empty.md", "empty.docx"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"")
    _raises(tmp_path / name, f"{name} is empty")


def test_blank_text_file_is_empty(tmp_path: Path) -> None:
    (tmp_path / "blank.txt").write_text(" \n\n\t\n")
    _raises(tmp_path / "blank.txt", "blank.txt is empty")


def test_binary_file_with_nul_bytes(tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_bytes(SAMPLE_TEXT.encode("utf-16"))
    _raises(tmp_path / "report.txt", "report.txt is a binary file")


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "report.md").write_bytes(to_markdown(SAMPLE_TEXT).encode("cp1252", "replace"))
    _raises(tmp_path / "report.md", "report.md is not UTF-8 text")


def test_missing_file(tmp_path: Path) -> None:
    _raises(tmp_path / "absent.txt", "cannot read absent.txt")


def test_unreadable_path(tmp_path: Path) -> None:
    (tmp_path / "folder.docx").mkdir()
    _raises(tmp_path / "folder.docx", "cannot read folder.docx")


def test_docx_that_is_text(tmp_path: Path) -> None:
    (tmp_path / "report.docx").write_text(SAMPLE_TEXT, encoding="utf-8")
    _raises(tmp_path / "report.docx", "report.docx is not a readable .docx file")


def test_docx_that_is_another_zip(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "report.docx", "w") as archive:
        archive.writestr("report.txt", SAMPLE_TEXT)
    _raises(tmp_path / "report.docx", "not a readable .docx file")


def test_truncated_docx(tmp_path: Path) -> None:
    whole = to_docx(SAMPLE_TEXT, tmp_path / "whole.docx").read_bytes()
    (tmp_path / "cut.docx").write_bytes(whole[: len(whole) // 2])
    _raises(tmp_path / "cut.docx", "cut.docx is not a readable .docx file")


def test_docx_with_broken_document_xml(tmp_path: Path) -> None:
    with (
        zipfile.ZipFile(to_docx(SAMPLE_TEXT, tmp_path / "whole.docx")) as source,
        zipfile.ZipFile(tmp_path / "broken.docx", "w") as target,
    ):
        for name in source.namelist():
            broken = name == "word/document.xml"
            target.writestr(name, b"<w:document" if broken else source.read(name))
    _raises(tmp_path / "broken.docx", "broken.docx is not a readable .docx file")


@pytest.mark.parametrize("name", ["report.doc", "report"])
def test_unsupported_suffix(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(SAMPLE_TEXT, encoding="utf-8")
    _raises(tmp_path / name, f"cannot read {name}: expected a .txt, .md, .docx or .pdf file")


@pytest.mark.parametrize("name", ["prose.txt", "prose.md", "prose.docx"])
def test_no_action_table(tmp_path: Path, name: str) -> None:
    prose = "\n".join(line for line in SAMPLE_TEXT.splitlines() if "\t" not in line)
    if name.endswith(".docx"):
        to_docx(prose, tmp_path / name)
    else:
        (tmp_path / name).write_text(prose, encoding="utf-8")
    _raises(tmp_path / name, f"no table of agreed actions found in {name}")


def test_missing_meeting_date_is_left_to_the_importer(tmp_path: Path) -> None:
    path = tmp_path / "undated.txt"
    path.write_text(SAMPLE_TEXT.replace("4-5 July 2023 – ", ""), encoding="utf-8")
    assert (parse_report(path).starts_on, parse_report(path).ends_on) == (None, None)


def test_impossible_meeting_date() -> None:
    with pytest.raises(InvalidInput, match="not a valid date"):
        parse_text(SAMPLE_TEXT.replace("4-5 July 2023", "30-31 February 2023"))


def test_meeting_that_ends_before_it_starts() -> None:
    with pytest.raises(InvalidInput, match="ends before it starts"):
        parse_text(SAMPLE_TEXT.replace("4-5 July 2023", "5-4 July 2023"))


def test_no_body_above_the_date() -> None:
    with pytest.raises(InvalidInput, match="no body and meeting name"):
        parse_text(f"4-5 July 2023\n**Objective 1 – One**\n{HEADER}\nA\tT\tR\n")


def test_action_table_before_any_objective_has_no_objective() -> None:
    (objective,) = parse_text(report(f"{HEADER}\nA\tT\tR")).objectives
    assert (objective.number, objective.title) == (0, "")


def test_milestone_row_without_an_action_above_is_a_problem_row() -> None:
    parsed = parse_text(report("**Objective 1 – One**", f"{HEADER}\n\tT\tR\nA\tT\tR"))
    assert [str(problem) for problem in parsed.problems] == [
        "table 1, row 1: a timeframe or body without an action above it: T | R"
    ]
    assert [a.text for a in parsed.objectives[0].actions] == ["A"]


# Arbitrary input ----------------------------------------------------------------------------

SAMPLE_LINES = SAMPLE_TEXT.splitlines()
texts = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(SAMPLE_LINES), st.text(max_size=40))).map("\n".join),
)


@given(texts)
def test_parse_text_returns_a_report_or_raises_invalid_input(text: str) -> None:
    try:
        assert isinstance(parse_text(text), ParsedReport)
    except InvalidInput as error:
        assert "\n" not in str(error)


@given(texts)
def test_parse_markdown_returns_a_report_or_raises_invalid_input(text: str) -> None:
    try:
        assert isinstance(parse_markdown(text), ParsedReport)
    except InvalidInput as error:
        assert "\n" not in str(error)


def test_a_repeated_header_continues_the_table_as_over_a_page_break() -> None:
    text = report("**Objective 1 – One**", f"{HEADER}\nA\tT\tR\n{HEADER}\n\tT2\tR2\nB\tT\tR")
    parsed = parse_text(text)
    assert parsed.problems == ()
    assert parsed.objectives[0].actions == (
        ActionRow("A", "T", "R", (("T2", "R2"),)),
        ActionRow("B", "T", "R"),
    )


def test_a_table_without_a_header_after_an_action_table_goes_on_with_it() -> None:
    text = report(f"{HEADER}\nA\tT\tR", "Confidential – page footer", "B\tT2\tR2")
    (objective,) = parse_text(text).objectives
    assert [a.text for a in objective.actions] == ["A", "B"]
