"""Known deviations (``run --baseline REPORT``): the rules an earlier ``report.json`` found
broken. A run given them still judges and reports those rules, but only a violation of
another rule fails it, as schemathesis' ``--baseline`` and s3-tests' ``fails_on_*`` markers
let a team adopt a gate before every old deviation is fixed."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["known_deviations"]

_BROKEN = frozenset({"fail", "warning"})


def known_deviations(path: Path) -> frozenset[str]:
    """The ids of the rules ``path`` (a ``report.json`` of an earlier run) reports broken.

    Raises ``ValueError`` saying what is wrong when ``path`` cannot be read or is not such
    a report."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"--baseline {path}: cannot read it ({error.strerror or error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"--baseline {path}: not a JSON report ({error})") from None
    rules = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(rules, list) or not all(
        isinstance(rule, dict) and isinstance(rule.get("id"), str) for rule in rules
    ):
        raise ValueError(
            f"--baseline {path}: not a report.json of sms-conformance (no list of rules with ids)"
        )
    return frozenset(rule["id"] for rule in rules if rule.get("status") in _BROKEN)
