"""What the second organisation holds (``--second-api-key``), read, never written: its
internal numbers, a template, a lead with a contact. The machine names them in SMS bodies
of the run's own organisation (:meth:`IsolationRules.name_another_organisations_objects`);
one organisation never reaches another's data, so those bodies must be refused.

Every request here is a GET with the second key. Whatever the second organisation lacks
or the target does not answer is left out; nothing here fails the run.
"""

from __future__ import annotations

from typing import Any

from conformance.client import ApiClient, MalformedAnswer
from conformance.fixture_answers import read_lead, read_phones
from conformance.fixtures import Foreign

__all__ = ["read_foreign"]

SECOND = "(with the second organisation's key)"


def read_foreign(api: ApiClient) -> Foreign | None:
    """What the second organisation holds, or None without a second key (or when it holds
    nothing the run can name)."""
    if not api.credentials.second_api_key:
        return None
    internal: tuple[str, ...] = ()
    phones = _get(api, "phone_number/")
    if phones is not None:
        try:
            internal, _ = read_phones(phones, f"GET phone_number/ {SECOND}")
        except MalformedAnswer:
            internal = ()
    foreign = Foreign(internal, _first_template(api), _first_lead(api))
    return foreign if foreign.anything else None


def _get(api: ApiClient, path: str, params: dict[str, str] | None = None) -> Any:
    exchange, _ = api.send("GET", path, params=params, auth="second-org")
    response = exchange.response
    if response is None or not 200 <= response.status_code < 300:
        return None
    return response.body


def _items(answer: Any) -> list[Any]:
    data = answer.get("data") if isinstance(answer, dict) else None
    return data if isinstance(data, list) else []


def _first_template(api: ApiClient) -> str | None:
    for item in _items(_get(api, "sms_template/", {"_limit": "5"})):
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
            return str(item["id"])
    return None


def _first_lead(api: ApiClient) -> tuple[str, str] | None:
    for item in _items(_get(api, "lead/", {"_limit": "5"})):
        try:
            lead = read_lead(item, f"GET lead/ {SECOND}")
        except MalformedAnswer:
            continue
        return lead.id, lead.contact_id
    return None
