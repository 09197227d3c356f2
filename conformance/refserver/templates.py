"""SMS template rendering: ``{{ contact.first_name }}`` and friends.

The docs show only ``{{ contact.first_name }}``; the other variables are the sensible set
(contact, lead, user, organisation). Whitespace inside the braces is optional. A variable
that is unknown, or whose value is missing, renders as the empty string. Text that is not a
``{{ dotted.name }}`` placeholder is left exactly as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["RenderContext", "render"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What a template can refer to: the SMS's contact and lead, its user, the org name."""

    contact: Mapping[str, Any] | None
    lead: Mapping[str, Any] | None
    user_first_name: str
    user_last_name: str
    organization_name: str

    def variables(self) -> dict[str, str]:
        """Return the value of every known variable (missing values as ``""``)."""
        contact_name = str((self.contact or {}).get("name") or "")
        first, _, last = contact_name.strip().partition(" ")
        lead = self.lead or {}
        full_name = " ".join(p for p in (self.user_first_name, self.user_last_name) if p)
        return {
            "contact.first_name": first,
            "contact.last_name": last.strip(),
            "contact.name": contact_name,
            "contact.display_name": contact_name,
            "lead.name": str(lead.get("name") or ""),
            "lead.display_name": str(lead.get("display_name") or ""),
            "user.first_name": self.user_first_name,
            "user.last_name": self.user_last_name,
            "user.full_name": full_name,
            "organization.name": self.organization_name,
        }


def render(text: str, context: RenderContext) -> str:
    """Return ``text`` with every placeholder replaced by its value in ``context``."""
    values = context.variables()
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)
