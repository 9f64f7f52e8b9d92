"""The code frame: carets under the offending columns, whatever the line holds."""

from __future__ import annotations

from rich.console import Console

from dockaudit.model import Location
from dockaudit.report.codeframe import TAB_SIZE, render_code_frame

SCRIPT = (
    "#!/bin/sh",
    "set -e",
    "docker run -d --privileged \\",
    "\t-p 8080:80 \\",
    "  nginx:1.25",
    "echo started",
)


def frame_text(lines: tuple[str, ...], loc: Location, width: int = 100, **kwargs: object) -> list[str]:
    console = Console(width=width, record=True, force_terminal=False)
    console.print(render_code_frame(lines, loc, **kwargs))
    return console.export_text().splitlines()


def carets(row: str) -> tuple[int, int]:
    """[start, end) of the run of carets in *row*."""
    start = row.index("^")
    end = start
    while end < len(row) and row[end] == "^":
        end += 1
    return start, end


def test_the_carets_sit_under_the_flag() -> None:
    rows = frame_text(SCRIPT, Location("deploy.sh", 3, 15, 3, 27))
    assert rows == [
        "2 │ set -e",
        "3 │ docker run -d --privileged \\",
        "  │               ^^^^^^^^^^^^",
        "4 │         -p 8080:80 \\",
    ]
    start, end = carets(rows[2])
    assert rows[1][start:end] == "--privileged"


def test_context_lines_are_clipped_to_the_file() -> None:
    rows = frame_text(SCRIPT, Location("deploy.sh", 1, 3, 1, 10), context=2)
    assert [row.split(" │")[0].strip() for row in rows] == ["1", "", "2", "3"]
    rows = frame_text(SCRIPT, Location("deploy.sh", 6, 1, 6, 5), context=0)
    assert rows == ["6 │ echo started", "  │ ^^^^"]


def test_tabs_are_expanded_the_same_way_for_text_and_carets() -> None:
    rows = frame_text(SCRIPT, Location("deploy.sh", 4, 2, 4, 12), context=0)
    assert rows[0] == "4 │ " + SCRIPT[3].expandtabs(TAB_SIZE)
    start, end = carets(rows[1])
    assert rows[0][start:end] == "-p 8080:80"

    mixed = ("a\tb\tdocker run\t--pid\thost x",)
    col = mixed[0].index("--pid") + 1
    rows = frame_text(mixed, Location("m.sh", 1, col, 1, col + len("--pid\thost")), context=0)
    start, end = carets(rows[1])
    gutter = len("1 │ ")
    prefix = mixed[0][: col - 1]
    assert (start - gutter, end - gutter) == (
        len(prefix.expandtabs(TAB_SIZE)),
        len((prefix + "--pid\thost").expandtabs(TAB_SIZE)),
    )
    assert rows[0][start:end].startswith("--pid") and rows[0][start:end].endswith("host")
    assert rows[0][end:] == " x"


def test_a_span_over_continuation_lines_is_underlined_on_every_line() -> None:
    rows = frame_text(SCRIPT, Location("deploy.sh", 3, 8, 5, 13), context=1)
    assert rows == [
        "2 │ set -e",
        "3 │ docker run -d --privileged \\",
        "  │        ^^^^^^^^^^^^^^^^^^^^^",
        "4 │         -p 8080:80 \\",
        "  │         ^^^^^^^^^^^^",
        "5 │   nginx:1.25",
        "  │   ^^^^^^^^^^",
        "6 │ echo started",
    ]
    # from the start column on the first line, through the end column on the last
    assert rows[1][carets(rows[2])[0]:].startswith("run -d")
    assert rows[5][slice(*carets(rows[6]))] == "nginx:1.25"


def test_the_span_may_end_inside_the_last_line() -> None:
    rows = frame_text(SCRIPT, Location("deploy.sh", 4, 5, 5, 8), context=0)
    assert rows[3] == "  │   ^^^^^"
    assert rows[2][slice(*carets(rows[3]))] == "nginx"
    assert rows[0][carets(rows[1])[0]:].startswith("8080:80")


def test_wide_characters_take_two_cells() -> None:
    line = ("docker run -e 名前=値 --privileged x",)
    col = line[0].index("--privileged") + 1
    rows = frame_text(line, Location("w.sh", 1, col, 1, col + 12), context=0)
    start, _ = carets(rows[1])
    prefix_cells = len("1 │ docker run -e ") + 2 * 3 + 1 + 1  # 名前=値 is 7 cells, then a space
    assert start == prefix_cells
    assert rows[1].count("^") == 12


def test_a_long_line_is_shifted_so_the_flag_stays_in_view() -> None:
    line = ("docker run " + "-e A=b " * 30 + "--privileged nginx:1.25",)
    col = line[0].index("--privileged") + 1
    rows = frame_text(line, Location("l.sh", 1, col, 1, col + 12), width=80, context=0)
    assert all(len(row) <= 80 for row in rows)
    assert rows[0].startswith("1 │ …")
    start, end = carets(rows[1])
    assert rows[0][start:end] == "--privileged"


def test_a_zero_width_span_still_gets_one_caret() -> None:
    rows = frame_text(SCRIPT, Location("deploy.sh", 2, 7, 2, 7), context=0)
    assert rows == ["2 │ set -e", "  │       ^"]


def test_a_label_follows_the_last_carets() -> None:
    rows = frame_text(SCRIPT, Location("deploy.sh", 3, 15, 3, 27), context=0, label="DA501")
    assert rows[1].endswith("^^^^^^^^^^^^ DA501")


def test_the_gutter_is_as_wide_as_the_last_line_number() -> None:
    lines = tuple(f"echo {n}" for n in range(1, 12))
    rows = frame_text(lines, Location("g.sh", 9, 6, 9, 7), context=2)
    assert rows[0] == " 7 │ echo 7"
    assert rows[-1] == "11 │ echo 11"
    assert rows[3] == "   │      ^"


def test_a_location_outside_the_file_prints_nothing() -> None:
    assert frame_text(SCRIPT, Location("deploy.sh", 40, 1, 40, 3)) == []
    assert frame_text((), Location("deploy.sh", 1, 1, 1, 3)) == []


def test_a_span_running_past_the_end_of_file_stops_there() -> None:
    rows = frame_text(SCRIPT, Location("deploy.sh", 6, 1, 9, 3), context=1)
    assert rows == ["5 │   nginx:1.25", "6 │ echo started", "  │ ^^^^^^^^^^^^"]
