"""Traceability on paper: for every rule, the documented sentence it rests on, the code that
decides it, the checks that judge it, the faulty variants that break it and the readings of
the open points that touch it (``docs/traceability.md``, kept equal to :func:`render` by a
test; regenerate with ``python -m conformance.traceability > docs/traceability.md``).

"Decided in" lists every function of the package, outside the checks and the catalogue,
whose source names the rule id as a literal: where the oracle, the ledger, the probes or
the schema phase turn an answer into a verdict on it. :func:`rule_id_literals` is the same
scan the tests use to prove that every rule id written in the source exists.

Pure apart from reading the package's own source files.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Site", "render", "rule_id_literals"]

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("conformance", "strategies")
# A string that looks like a rule id: a family, then one or more path-like segments.
_LOOKS_LIKE_A_RULE = re.compile(r"[a-z]+(?:/[a-z0-9][a-z0-9-]*)+")
_NOT_DECIDING = (
    "conformance/rules/",  # the checks: their own column
    "conformance/refserver/faults.py",  # the faulty variants: their own column
    "conformance/traceability.py",
)


@dataclass(frozen=True, slots=True, order=True)
class Site:
    """Where a rule id is written: the file (relative to the repository), line, function."""

    path: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.function})"


def rule_id_literals(families: frozenset[str]) -> dict[str, list[Site]]:
    """Every string literal in the package's source that looks like a rule id of one of
    ``families`` (``sms``, ``protocol``...), mapped to where it is written."""
    found: dict[str, list[Site]] = {}
    for path in _source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        relative = path.relative_to(ROOT).as_posix()
        for function, node in _constants(tree):
            value = node.value
            if (
                isinstance(value, str)
                and _LOOKS_LIKE_A_RULE.fullmatch(value)
                and value.split("/", 1)[0] in families
            ):
                found.setdefault(value, []).append(Site(relative, node.lineno, function))
    return found


def _source_files() -> Iterator[Path]:
    for package in SCANNED:
        yield from sorted((ROOT / package).rglob("*.py"))


def _constants(tree: ast.AST) -> Iterator[tuple[str, ast.Constant]]:
    """Every constant of ``tree`` with the qualified name of the function (or class, or
    ``<module>``) it is written in."""

    def walk(node: ast.AST, scope: str) -> Iterator[tuple[str, ast.Constant]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = child.name if scope == "<module>" else f"{scope}.{child.name}"
                yield from walk(child, inner)
            elif isinstance(child, ast.Constant):
                yield scope, child
            elif isinstance(child, ast.JoinedStr):
                continue  # an f-string builds an id at run time: CATALOGUE[...] judges it
            else:
                yield from walk(child, scope)

    yield from walk(tree, "<module>")


def render() -> str:
    """The traceability matrix as Markdown, one section per rule in catalogue order."""
    # Imported here: registering the checks imports the rule modules.
    import conformance.rules  # noqa: F401 - registers every check
    from conformance.catalogue import CATALOGUE, NEEDS
    from conformance.checks import CHECKS
    from conformance.refserver.faults import FAULTS, UNBROKEN

    families = frozenset(rule_id.split("/", 1)[0] for rule_id in CATALOGUE)
    literals = rule_id_literals(families)
    checks: dict[str, list[str]] = {}
    order = CATALOGUE.check_order

    def run_order(name: str) -> int:  # the catalogue's check_order, by module
        module = name.removeprefix("conformance.rules.").split(".", 1)[0]
        return order.index(module) if module in order else len(order)

    for name in sorted(CHECKS, key=run_order):  # stable: registration order within a module
        registered = CHECKS[name]
        for rule_id in registered.rules:
            checks.setdefault(rule_id, []).append(name.removeprefix("conformance.rules."))
    faults: dict[str, list[str]] = {}
    for fault in FAULTS.values():
        faults.setdefault(fault.rule, []).append(fault.name)
    points: dict[str, list[str]] = {}
    for point in CATALOGUE.open_points.values():
        for rule_id in point.rules:
            points.setdefault(rule_id, []).append(f"`{point.id}` ({', '.join(point.alternatives)})")
    lines = [
        "# Traceability: rule -> documented sentence -> deciding code -> checks -> faulty "
        "variants -> readings",
        "",
        "Generated by `python -m conformance.traceability > docs/traceability.md`; "
        "`tests/test_traceability.py` keeps it current. Sections refer to "
        "`docs/reference/close-sms-api.md`.",
        "",
        f"{len(CATALOGUE)} rules, {len(CHECKS)} checks, {len(FAULTS)} faulty variants, "
        f"{len(CATALOGUE.open_points)} open points.",
    ]
    for rule in CATALOGUE.rules():
        deciding = sorted(
            {
                f"`{site.path}` {site.function}"
                for site in literals.get(rule.id, ())
                if not site.path.startswith(_NOT_DECIDING)
            }
        )
        lines += [
            "",
            f"## `{rule.id}` ({rule.level})",
            "",
            f"{rule.statement}",
            "",
            f'- Documented{" (paraphrased)" if rule.paraphrase else ""}: "{rule.quote}" '
            f"({rule.source.title}, §{rule.section}; <{rule.url}>)",
            "- Decided in: " + (", ".join(deciding) or "its checks only"),
            "- Checks: "
            + (", ".join(f"`{c}`" for c in checks.get(rule.id, ())) or "none")
            + (f" (untested: {rule.untested})" if rule.untested else ""),
            "- Faulty variants: "
            + (", ".join(f"`{f}`" for f in faults.get(rule.id, ())) or "none")
            + (f" ({UNBROKEN[rule.id]})" if rule.id in UNBROKEN else ""),
            "- Open points: " + (", ".join(points.get(rule.id, ())) or "none"),
            *(
                ["- Needs: " + ", ".join(f"`{NEEDS[need]}`" for need in rule.needs)]
                if rule.needs
                else []
            ),
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
