"""Remove what earlier runs left on a target: every lead and SMS template whose name carries
the run tag (``sms-conformance <run id> ...``), and the SMS on those leads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from conformance.client import ApiClient
from conformance.target import TAG

__all__ = ["CleanupResult", "clean_up"]

PAGE = 100
MAX_PAGES = 50


@dataclass
class CleanupResult:
    leads: int = 0
    sms: int = 0
    templates: int = 0


def _tagged(api: ApiClient, path: str, run_id: str | None) -> Iterator[str]:
    prefix = f"{TAG} {run_id} " if run_id else f"{TAG} "
    found: list[str] = []
    for page in range(MAX_PAGES):
        exchange, _ = api.send("GET", path, params={"_skip": str(page * PAGE), "_limit": str(PAGE)})
        body = exchange.response.body if exchange.response is not None else None
        if not isinstance(body, dict):
            break
        for item in body.get("data") or []:
            if isinstance(item, dict) and str(item.get("name", "")).startswith(prefix):
                found.append(item["id"])
        if body.get("has_more") is not True:
            break
    yield from found  # listed first, deleted after: deleting while paging would skip items


def clean_up(api: ApiClient, *, run_id: str | None = None) -> CleanupResult:
    """Delete tagged leads (their SMS first) and tagged templates; return the counts."""
    result = CleanupResult()
    for lead_id in _tagged(api, "lead/", run_id):
        exchange, _ = api.send("GET", "activity/sms/", params={"lead_id": lead_id})
        body = exchange.response.body if exchange.response is not None else None
        for item in body.get("data", []) if isinstance(body, dict) else []:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                api.send("DELETE", f"activity/sms/{item['id']}/")
                result.sms += 1
        api.send("DELETE", f"lead/{lead_id}/")
        result.leads += 1
    for template_id in _tagged(api, "sms_template/", run_id):
        api.send("DELETE", f"sms_template/{template_id}/")
        result.templates += 1
    return result
