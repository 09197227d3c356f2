"""Fixed organisations, users and phone numbers the reference server starts with.

The credentials are constants so documentation and tests can name them; they only ever
open a reference server, never a real Close account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.refserver.phones import country_iso, format_phone

__all__ = ["ORGS", "SEED_DATE", "OrgCredentials", "phone_number_documents", "user_document"]

SEED_DATE = "2026-01-01T00:00:00.000000+00:00"


@dataclass(frozen=True, slots=True)
class OrgCredentials:
    """One seeded organisation with its single user, credentials and phone numbers."""

    organization_id: str
    organization_name: str
    user_id: str
    user_first_name: str
    user_last_name: str
    api_key: str
    oauth_token: str
    internal_numbers: tuple[str, ...]  # E.164, type "internal": valid SMS local_phone
    external_numbers: tuple[str, ...]  # E.164, type "external": refused as local_phone

    @property
    def user_email(self) -> str:
        return f"{self.user_first_name.lower()}@{self.organization_id}.reference.invalid"


ORGS: tuple[OrgCredentials, ...] = (
    OrgCredentials(
        organization_id="orga_reference_a",
        organization_name="Reference Org A",
        user_id="user_reference_a",
        user_first_name="Alice",
        user_last_name="Anders",
        api_key="ref-key-org-a",
        oauth_token="ref-oauth-org-a",
        internal_numbers=("+16503335550", "+16503335551"),
        external_numbers=("+14151231230",),
    ),
    OrgCredentials(
        organization_id="orga_reference_b",
        organization_name="Reference Org B",
        user_id="user_reference_b",
        user_first_name="Bob",
        user_last_name="Brandt",
        api_key="ref-key-org-b",
        oauth_token="ref-oauth-org-b",
        internal_numbers=("+16503336660", "+16503336661"),
        external_numbers=("+14151231231",),
    ),
)


def user_document(org: OrgCredentials) -> dict[str, Any]:
    """Return the ``GET /me/`` body for ``org``'s user."""
    return {
        "id": org.user_id,
        "first_name": org.user_first_name,
        "last_name": org.user_last_name,
        "email": org.user_email,
        "image": None,
        "date_created": SEED_DATE,
        "date_updated": SEED_DATE,
        "last_used_timezone": "UTC",
        "email_accounts": [],
        "memberships": [
            {
                "id": f"memb_{org.organization_id[5:]}",
                "organization_id": org.organization_id,
                "user_id": org.user_id,
                "role_id": "admin",
            }
        ],
        "organizations": [{"id": org.organization_id, "name": org.organization_name}],
    }


def phone_number_documents(org: OrgCredentials) -> list[dict[str, Any]]:
    """Return the Phone Number objects of ``org``: its internal numbers, then external."""
    numbers = [(n, "internal") for n in org.internal_numbers]
    numbers += [(n, "external") for n in org.external_numbers]
    documents = []
    for index, (number, kind) in enumerate(numbers):
        internal = kind == "internal"
        documents.append(
            {
                "id": f"phon_{org.organization_id[5:]}_{index}",
                "number": number,
                "number_formatted": format_phone(number),
                "type": kind,
                "label": f"{kind} {index}",
                "country": country_iso(number),
                "organization_id": org.organization_id,
                "user_id": org.user_id,
                "is_group_number": False,
                "participants": [],
                "sms_enabled": internal,
                "mms_enabled": internal,
                "supports_sms_to_countries": ["US", "CA"] if internal else [],
                "supports_mms_to_countries": ["US", "CA"] if internal else [],
                "is_verified": True,
                "is_premium": False,
                "was_ported": False,
                "forward_to": None,
                "forward_to_enabled": False,
                "forward_to_formatted": None,
                "carrier": "twilio" if internal else None,
                "carrier_type": "local" if internal else None,
                "date_created": SEED_DATE,
                "date_updated": SEED_DATE,
            }
        )
    return documents
