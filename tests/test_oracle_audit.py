"""The oracle audit is kept true: every row of the December 2026 audit
(../shared/reference/oracle-audit-2026-12.md) is answered in conformance/oracle_audit.toml,
and every answer points at things that exist and say what the row claims: a documented
sentence that is in the named rule's quote, a served reading of an open point, an
unspecified rule, and tests and faulty variants that would fail if the row regressed."""

from __future__ import annotations

import ast
import re
import tomllib
from functools import cache
from pathlib import Path

import pytest

from conformance.catalogue import CATALOGUE, Level
from conformance.refserver import FAULTS

ROOT = Path(__file__).resolve().parents[1]
AUDIT = ROOT / "conformance" / "oracle_audit.toml"

# The rows of the audit document, by section; the file must answer every one of them.
AUDITED = (
    *(f"C{n}" for n in range(1, 24)), "C1b", "C10b",
    *(f"U{n}" for n in range(1, 9)),
    "G1", "G2", "D1", "D2",
    *(f"L{n}" for n in range(1, 11)),
    *(f"O{n}" for n in range(1, 8)),
    *(f"P{n}" for n in range(1, 11)),
    "A1", "A2", "A3", "R1", "R2", "R3", "S1", "S2", "S3", "X",
)  # fmt: skip
RESOLUTIONS = {"backed", "reading", "unspecified", "fixed"}


@cache
def rows() -> dict[str, dict]:
    data = tomllib.loads(AUDIT.read_text(encoding="utf-8"))
    found: dict[str, dict] = {}
    for row in data["row"]:
        assert row["id"] not in found, f"row {row['id']} is answered twice"
        found[row["id"]] = row
    return found


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[`*]", "", text)).strip().lower()


@cache
def _test_functions(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    )


def test_every_audited_row_is_answered_once_and_nothing_else_is():
    assert sorted(rows()) == sorted(AUDITED)


@pytest.mark.parametrize("row_id", AUDITED)
def test_each_answer_is_one_of_the_four_kinds_and_says_what_the_oracle_does_now(row_id):
    row = rows()[row_id]
    assert row["resolution"] in RESOLUTIONS, row
    assert row["decision"].strip() and row["now"].strip(), row


@pytest.mark.parametrize("row_id", AUDITED)
def test_each_rule_an_answer_names_is_in_the_catalogue(row_id):
    unknown = [rule for rule in rows()[row_id].get("rules", []) if rule not in CATALOGUE.ids()]
    assert unknown == []


@pytest.mark.parametrize("row_id", [r for r in AUDITED if r])
def test_a_backed_answer_quotes_a_sentence_of_a_rule_that_can_fail_a_server(row_id):
    row = rows()[row_id]
    if row["resolution"] != "backed":
        assert "sentence" not in row or row["resolution"] == "fixed", row
        return
    rules = [CATALOGUE[rule] for rule in row["rules"]]
    assert rules, f"{row_id}: a backed answer names the rule whose sentence backs it"
    assert all(rule.level is not Level.UNSPECIFIED for rule in rules), row_id
    quotes = " | ".join(_words(rule.quote) + " " + _words(rule.statement) for rule in rules)
    assert _words(row["sentence"]) in quotes, (row_id, row["sentence"], quotes)


@pytest.mark.parametrize("row_id", AUDITED)
def test_a_reading_answer_names_served_alternatives_of_open_points(row_id):
    row = rows()[row_id]
    readings = row.get("readings", [])
    assert bool(readings) == (row["resolution"] == "reading"), row_id
    for reading in readings:
        point, _, alternative = reading.partition("=")
        assert point in CATALOGUE.open_points, reading
        assert alternative in CATALOGUE.open_points[point].alternatives, reading


@pytest.mark.parametrize("row_id", AUDITED)
def test_an_unspecified_answer_names_rules_judged_informational(row_id):
    row = rows()[row_id]
    if row["resolution"] == "unspecified":
        assert row["rules"], row_id
        assert all(CATALOGUE[rule].level is Level.UNSPECIFIED for rule in row["rules"]), row_id


@pytest.mark.parametrize("row_id", AUDITED)
def test_each_answer_is_held_by_a_test_or_a_faulty_variant_that_exists(row_id):
    row = rows()[row_id]
    tests, faults = row.get("tests", []), row.get("faults", [])
    assert tests or faults, f"{row_id}: name what would fail if the answer regressed"
    for node in tests:
        path, _, name = node.partition("::")
        assert (ROOT / path).is_file(), node
        assert name.split("[")[0] in _test_functions(path), node
    for name in faults:
        assert name in FAULTS, name
        if row["resolution"] == "backed":  # a variant breaking the backing rule is caught
            assert FAULTS[name].rule in row["rules"], (row_id, name)
