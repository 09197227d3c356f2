"""What the catalogue holds: rules, sources, open points, their levels, and the
:class:`Catalogue` mapping rule ids to rules (with suggestions for an unknown id).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum


class CatalogueError(ValueError):
    """The catalogue TOML is malformed; the message names the offending entry and the fix."""


class UnknownRule(KeyError):
    """A rule id looked up in the catalogue does not exist; the message lists close matches."""

    def __init__(self, rule_id: str, suggestions: list[str]) -> None:
        self.rule_id = rule_id
        self.suggestions = suggestions
        super().__init__(rule_id)

    def __str__(self) -> str:
        message = f"unknown rule id {self.rule_id!r}"
        if self.suggestions:
            message += "; did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        return message


class Level(StrEnum):
    """How binding a rule is. ``unspecified`` rules are reported, never failed."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    UNSPECIFIED = "unspecified"


@dataclass(frozen=True, slots=True)
class Source:
    """A document the catalogue cites: its key in ``[sources.*]``, title and URL."""

    key: str
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Rule:
    """One catalogued behaviour. ``untested`` holds the reason when no check can observe it."""

    id: str
    level: Level
    statement: str
    section: str
    source: Source
    quote: str
    untested: str | None = None
    paraphrase: bool = False  # the quote condenses the notes rather than citing them verbatim
    needs: tuple[str, ...] = ()  # what judging it takes beyond an API key (keys of NEEDS)
    # Named boundary cases a check recognises and reports (``Finding.boundary``), in file
    # order: the report counts how often each was reached.
    boundaries: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """Return the URL of the document the rule is quoted from."""
        return self.source.url


@dataclass(frozen=True, slots=True)
class OpenPoint:
    """A point the docs leave open: the sentence that leaves it open, every reading a
    conforming server may take (``alternatives``: name -> what the server does), the
    reading the reference server takes by default, and the rules whose verdict it touches."""

    id: str
    question: str
    section: str
    source: Source
    quote: str
    default: str
    alternatives: Mapping[str, str]
    rules: tuple[str, ...] = ()
    paraphrase: bool = False  # the quote condenses the notes rather than citing them verbatim


class Catalogue(Mapping[str, Rule]):
    """The rules by id, iterated in file order.

    ``catalogue[id]`` returns the :class:`Rule` or raises :class:`UnknownRule` (a
    ``KeyError``) naming the closest ids.
    """

    __slots__ = ("_rules", "check_order", "open_points", "sources")

    def __init__(
        self,
        rules: list[Rule],
        sources: Mapping[str, Source],
        open_points: list[OpenPoint] | None = None,
        *,
        check_order: tuple[str, ...] = (),
    ) -> None:
        #: The modules of ``conformance/rules/`` in the order their checks run on a step, and
        #: so which rule a step that breaks several names first.
        self.check_order = check_order
        self._rules: dict[str, Rule] = {rule.id: rule for rule in rules}
        self.sources: Mapping[str, Source] = dict(sources)
        self.open_points: Mapping[str, OpenPoint] = {p.id: p for p in open_points or ()}

    def __getitem__(self, rule_id: str) -> Rule:
        try:
            return self._rules[rule_id]
        except KeyError:
            close = difflib.get_close_matches(rule_id, self._rules, n=3, cutoff=0.6)
            raise UnknownRule(rule_id, close) from None

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __iter__(self) -> Iterator[str]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return f"<Catalogue of {len(self)} rules>"

    def ids(self) -> list[str]:
        """Return every rule id, in file order."""
        return list(self._rules)

    def rules(self) -> list[Rule]:
        """Return every rule, in file order."""
        return list(self._rules.values())

    def by_prefix(self, prefix: str) -> list[Rule]:
        """Return the rules whose id is ``prefix`` or lies under it, in file order.

        ``by_prefix("sms/create")`` matches ``sms/create/...`` but not ``sms/created/...``.
        An empty list means nothing matched; it never raises.
        """
        stem = prefix.rstrip("/")
        return [r for r in self._rules.values() if r.id == stem or r.id.startswith(stem + "/")]
