"""Reading the catalogue's TOML and validating every entry, naming the offending one."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

from conformance.catalogue.entries import (
    Catalogue,
    CatalogueError,
    Level,
    OpenPoint,
    Rule,
    Source,
    UnknownRule,
)

ID_PATTERN = re.compile(r"^[a-z0-9-]+(/[a-z0-9-]+)+$")
RULE_KEYS = frozenset(
    {
        "id",
        "level",
        "statement",
        "section",
        "source",
        "quote",
        "untested",
        "paraphrase",
        "needs",
        "boundaries",
    }
)
REQUIRED_RULE_KEYS = RULE_KEYS - {"untested", "paraphrase", "needs", "boundaries"}
# What judging a rule may need beyond the run's API key (``needs``), and the option that
# gives it.
NEEDS = {
    "send": "--allow-send",
    "second-api-key": "--second-api-key",
    "oauth-token": "--oauth-token",
}
SOURCE_KEYS = frozenset({"title", "url"})
TOP_LEVEL_KEYS = frozenset({"check_order", "sources", "rule", "open_point"})
OPEN_POINT_KEYS = frozenset(
    {
        "id",
        "question",
        "section",
        "source",
        "quote",
        "default",
        "rules",
        "alternatives",
        "paraphrase",
    }
)
OPEN_POINT_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Phrases a statement must not contain (JSON-Schema-Test-Suite sanity rule): a statement says
# what MUST happen, it neither hedges with a lower-case "should" nor describes a test.
FORBIDDEN_PHRASES = (" should ", "test that")


def load_catalogue(text: str | None = None) -> Catalogue:
    """Parse and validate a catalogue; return it as a :class:`Catalogue`.

    ``text`` is TOML in the format described in :mod:`conformance.catalogue`; when it is
    ``None`` the packaged ``catalogue.toml`` is read. Raises :class:`CatalogueError`, naming
    the entry, on invalid TOML, unknown keys, a missing or empty field, a malformed or
    duplicate id, an unknown level or source, a source URL that is not https, a statement
    that contains a lower-case "should" or "test that", or a boundary that is empty or
    listed twice.
    """
    if text is None:
        text = (files("conformance") / "catalogue.toml").read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"catalogue is not valid TOML: {exc}") from exc

    unknown = set(data) - TOP_LEVEL_KEYS
    if unknown:
        raise CatalogueError(
            f"unknown top-level key(s) {sorted(unknown)}; only check_order, [sources.*], "
            "[[rule]] and [[open_point]] are allowed"
        )
    order = data.get("check_order", [])
    if not isinstance(order, list) or not all(isinstance(m, str) and m for m in order):
        raise CatalogueError("'check_order' must be a list of module names of conformance/rules/")
    if len(set(order)) != len(order):
        raise CatalogueError("'check_order' names a module twice")
    sources = _parse_sources(data.get("sources", {}))
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list):
        raise CatalogueError("'rule' must be an array of tables: write each one as [[rule]]")

    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        rule = _parse_rule(raw, index, sources)
        if rule.id in seen:
            raise CatalogueError(f"rule {rule.id!r}: duplicate id; ids must be unique")
        seen.add(rule.id)
        rules.append(rule)
    raw_points = data.get("open_point", [])
    if not isinstance(raw_points, list):
        raise CatalogueError("'open_point' must be an array of tables: write [[open_point]]")
    points: list[OpenPoint] = []
    for index, raw in enumerate(raw_points):
        point = _parse_open_point(raw, index, sources, seen)
        if any(point.id == other.id for other in points):
            raise CatalogueError(f"open point {point.id!r}: duplicate id; ids must be unique")
        points.append(point)
    return Catalogue(rules, sources, points, check_order=tuple(order))


def _parse_open_point(
    raw: Any, index: int, sources: Mapping[str, Source], rule_ids: set[str]
) -> OpenPoint:
    if not isinstance(raw, dict):
        raise CatalogueError(f"open point #{index + 1}: must be a table")
    point_id = raw.get("id")
    where = f"open point {point_id!r}" if isinstance(point_id, str) else f"open point #{index + 1}"
    unknown = set(raw) - OPEN_POINT_KEYS
    if unknown:
        raise CatalogueError(
            f"{where}: unknown key(s) {sorted(unknown)}; "
            f"allowed: {', '.join(sorted(OPEN_POINT_KEYS))}"
        )
    for key in ("id", "question", "section", "source", "quote", "default"):
        _non_empty_string(raw, key, where)
    if not OPEN_POINT_ID.match(raw["id"]):
        raise CatalogueError(f"{where}: malformed id; use lowercase words joined by '-'")
    source = sources.get(raw["source"])
    if source is None:
        raise CatalogueError(
            f"{where}: unknown source {raw['source']!r}; add a [sources.{raw['source']}] table"
        )
    alternatives = raw.get("alternatives")
    if not isinstance(alternatives, dict) or len(alternatives) < 2:
        raise CatalogueError(f"{where}: give two or more [open_point.alternatives]")
    for name in alternatives:
        if not OPEN_POINT_ID.match(name):
            raise CatalogueError(f"{where}: malformed alternative {name!r}")
        _non_empty_string(alternatives, name, f"{where}, alternative {name!r}")
    if raw["default"] not in alternatives:
        raise CatalogueError(
            f"{where}: default {raw['default']!r} is not one of its alternatives "
            f"({', '.join(alternatives)})"
        )
    rules = raw.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(rule, str) for rule in rules):
        raise CatalogueError(f"{where}: 'rules' must be a list of rule ids")
    for rule in rules:
        if rule not in rule_ids:
            close = difflib.get_close_matches(rule, rule_ids, n=3, cutoff=0.6)
            raise CatalogueError(f"{where}: {UnknownRule(rule, close)}")
    return OpenPoint(
        id=raw["id"],
        question=raw["question"],
        section=raw["section"],
        source=source,
        quote=raw["quote"],
        default=raw["default"],
        alternatives=dict(alternatives),
        rules=tuple(rules),
        paraphrase=_flag(raw, "paraphrase", where),
    )


def _parse_sources(raw: Any) -> dict[str, Source]:
    if not isinstance(raw, dict):
        raise CatalogueError("'sources' must be a table of [sources.KEY] tables")
    sources: dict[str, Source] = {}
    for key, entry in raw.items():
        where = f"source {key!r}"
        if not isinstance(entry, dict):
            raise CatalogueError(f"{where}: must be a table with title and url")
        unknown = set(entry) - SOURCE_KEYS
        if unknown:
            raise CatalogueError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: title, url")
        title = _non_empty_string(entry, "title", where)
        url = _non_empty_string(entry, "url", where)
        if not url.startswith("https://"):
            raise CatalogueError(f"{where}: url {url!r} must start with https://")
        sources[key] = Source(key=key, title=title, url=url)
    return sources


def _parse_rule(raw: Any, index: int, sources: Mapping[str, Source]) -> Rule:
    if not isinstance(raw, dict):
        raise CatalogueError(f"rule #{index + 1}: must be a table")
    rule_id = raw.get("id")
    where = f"rule {rule_id!r}" if isinstance(rule_id, str) and rule_id else f"rule #{index + 1}"

    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise CatalogueError(
            f"{where}: unknown key(s) {sorted(unknown)}; allowed: {', '.join(sorted(RULE_KEYS))}"
        )
    for key in sorted(REQUIRED_RULE_KEYS):
        _non_empty_string(raw, key, where)

    if not ID_PATTERN.match(raw["id"]):
        raise CatalogueError(
            f"{where}: malformed id; use lowercase path segments such as 'sms/create/status-draft'"
        )
    try:
        level = Level(raw["level"])
    except ValueError:
        allowed = ", ".join(member.value for member in Level)
        raise CatalogueError(
            f"{where}: unknown level {raw['level']!r}; use one of {allowed}"
        ) from None
    source = sources.get(raw["source"])
    if source is None:
        raise CatalogueError(
            f"{where}: unknown source {raw['source']!r}; add a [sources.{raw['source']}] table"
        )
    statement = raw["statement"]
    for phrase in FORBIDDEN_PHRASES:
        if phrase in statement:
            raise CatalogueError(
                f"{where}: statement contains {phrase.strip()!r}; "
                "write 'X MUST Y' or 'X SHOULD Y' instead"
            )
    untested = raw.get("untested")
    if untested is not None:
        untested = _non_empty_string(raw, "untested", where)
    return Rule(
        id=raw["id"],
        level=level,
        statement=statement,
        section=raw["section"],
        source=source,
        quote=raw["quote"],
        untested=untested,
        paraphrase=_flag(raw, "paraphrase", where),
        needs=_needs(raw, where),
        boundaries=_boundaries(raw, where),
    )


def _boundaries(entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """A rule's named boundary cases: non-empty, trimmed, distinct strings."""
    names = entry.get("boundaries", [])
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise CatalogueError(f"{where}: 'boundaries' must be a list of names, got {names!r}")
    for name in names:
        if not name.strip() or name != name.strip():
            raise CatalogueError(
                f"{where}: boundary {name!r} must be a non-empty name with no leading or "
                "trailing spaces"
            )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise CatalogueError(f"{where}: boundary {duplicates[0]!r} is listed twice")
    if names and entry.get("untested") is not None:
        raise CatalogueError(f"{where}: an untested rule has no boundary a check can reach")
    return tuple(names)


def _needs(entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
    needs = entry.get("needs", [])
    if not isinstance(needs, list) or not all(need in NEEDS for need in needs):
        raise CatalogueError(
            f"{where}: 'needs' must be a list of {', '.join(map(repr, NEEDS))}, got {needs!r}"
        )
    return tuple(needs)


def _flag(entry: Mapping[str, Any], key: str, where: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise CatalogueError(f"{where}: {key!r} must be true or false, got {value!r}")
    return value


def _non_empty_string(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: {key!r} is missing or empty; give a non-empty string")
    return value
