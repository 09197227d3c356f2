"""Traceability on paper: docs/traceability.md is what the code says, and every rule id
written in the source is one the catalogue knows."""

from __future__ import annotations

from pathlib import Path

from conformance.catalogue import CATALOGUE
from conformance.traceability import ROOT, render, rule_id_literals

DOC = Path(__file__).resolve().parent.parent / "docs" / "traceability.md"
FAMILIES = frozenset(rule_id.split("/", 1)[0] for rule_id in CATALOGUE)


def test_the_traceability_matrix_on_paper_is_the_one_the_code_gives():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/traceability.md is out of date: run "
        "python -m conformance.traceability > docs/traceability.md"
    )


def test_the_matrix_has_a_section_for_every_rule_naming_its_sentence():
    text = render()
    for rule in CATALOGUE.rules():
        section = text.split(f"## `{rule.id}` ({rule.level})\n", 1)[1].split("\n## ", 1)[0]
        paraphrased = " (paraphrased)" if rule.paraphrase else ""
        assert f'- Documented{paraphrased}: "{rule.quote}"' in section


def test_every_rule_id_written_in_the_source_is_in_the_catalogue():
    literals = rule_id_literals(FAMILIES)
    unknown = {
        rule_id: [str(site) for site in sites]
        for rule_id, sites in literals.items()
        if rule_id not in CATALOGUE
    }
    assert not unknown, f"rule ids the catalogue lacks: {unknown}"


def test_the_scan_finds_rule_ids_where_they_are_written():
    literals = rule_id_literals(FAMILIES)
    sites = literals["sms/create/send-in-negative"]
    assert any(
        site.path == "conformance/model/create.py" and "Model" in site.function for site in sites
    )
    assert all((ROOT / site.path).is_file() for site in sites)


def test_the_scan_ignores_paths_and_families_that_are_not_rules():
    literals = rule_id_literals(FAMILIES)
    assert not any(key.startswith(("activity/", "lead/")) for key in literals)


REFERENCE = DOC.parent / "reference" / "close-sms-api.md"


def headings() -> dict[str, str]:
    """Section number -> title, of every heading of the reference notes ("1.3" -> "Create —
    `POST /activity/sms/`", "6" -> "Open questions (could NOT confirm)")."""
    found = {}
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            number, _, title = line.lstrip("# ").partition(" ")
            found[number.rstrip(".")] = title
    return found


def test_every_section_a_rule_or_open_point_cites_is_a_heading_of_the_notes_in_the_repo():
    known = headings()
    cited = [(rule.id, rule.section) for rule in CATALOGUE.rules()]
    cited += [(point.id, point.section) for point in CATALOGUE.open_points.values()]
    for owner, section in cited:
        for part in section.split(";"):
            number, _, title = part.strip().partition(" ")
            assert number in known, f"{owner}: section {number} is no heading of {REFERENCE}"
            name = title.split(",")[0].strip()
            assert known[number].startswith(name), f"{owner}: {part!r} vs {known[number]!r}"


def plain(text: str) -> str:
    """``text`` without Markdown emphasis and line breaks, as a reader sees it."""
    return " ".join(text.replace("**", "").split())


def quoted() -> list[tuple[str, str, bool]]:
    entries = [(rule.id, rule.quote, rule.paraphrase) for rule in CATALOGUE.rules()]
    points = CATALOGUE.open_points.values()
    return entries + [(point.id, point.quote, point.paraphrase) for point in points]


def test_every_quote_is_verbatim_in_the_notes_unless_marked_a_paraphrase():
    notes = plain(REFERENCE.read_text(encoding="utf-8"))
    for owner, quote, paraphrase in quoted():
        if not paraphrase:
            assert plain(quote) in notes, f"{owner}: quote not verbatim in {REFERENCE.name}"


def test_a_quote_marked_a_paraphrase_is_not_verbatim_after_all():
    notes = plain(REFERENCE.read_text(encoding="utf-8"))
    stale = [owner for owner, quote, paraphrase in quoted() if paraphrase and plain(quote) in notes]
    assert not stale, f"marked paraphrase but verbatim: {stale}"
