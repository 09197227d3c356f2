"""The README lists every open point of the catalogue with its readings, default first, so a
vendor sees in one table what the suite lets a conforming server choose."""

from __future__ import annotations

from pathlib import Path

from conformance.catalogue import CATALOGUE

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- open points: begin -->", "<!-- open points: end -->"


def open_points_table() -> str:
    """The table as the README must show it (generated from the catalogue)."""
    lines = ["| open point | readings (default first) | left open by |", "| --- | --- | --- |"]
    for point in CATALOGUE.open_points.values():
        others = [name for name in point.alternatives if name != point.default]
        readings = ", ".join(f"`{name}`" for name in [point.default, *others])
        quote = point.quote.replace("|", "\\|")
        lines.append(f"| `{point.id}` | {readings} | §{point.section.split(' ')[0]}: {quote} |")
    return "\n".join(lines)


def test_the_readme_table_of_open_points_is_the_catalogues():
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"put the table between {BEGIN} and {END}"
    shown = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    expected = open_points_table()
    assert shown == expected, "paste this table into the README:\n" + expected
