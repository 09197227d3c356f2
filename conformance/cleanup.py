"""Remove what earlier runs left on a target, and nothing else.

What a run creates is named ``sms-conformance <run id> <label>`` (``<run id>`` is 12 hex
digits, ``<label>`` is ``lead 0``, ``template``, ...): leads and SMS templates. Every SMS a
run creates carries one of its leads (the state machine, the schema phase, the timing ledger
and the probes all send a ``lead_id`` of the run's own), so the SMS on the tagged leads,
then the leads, then the tagged templates are everything; an SMS without a lead could not
be found by name, and a run never creates one.

Nothing the target lists is taken on trust:

- a name must match the tag *whole* (:func:`conformance.target.tagged_name_pattern`): a
  customer's lead named ``sms-conformance customers list`` is never touched;
- each SMS listed for ``lead_id=X`` must say ``"lead_id": "X"``: a server that ignores the
  filter does not get another lead's SMS deleted;
- an id that cannot be a URL path segment is skipped, never sent; so is an id that says it
  is another kind of object (Close's ids carry their kind: a "lead" listed with an ``acti_``
  id, or an SMS with a ``lead_`` one, is not what the list says it is);
- only an item that passed these checks is owned (``guard.own``) and deleted.

:func:`find_leftovers` lists (and deletes nothing); :func:`delete_leftovers` deletes what a
plan names, and says what it deleted and what it could not (also when the target is lost,
or Ctrl-C comes, mid-way). A list longer than cleanup reads (``MAX_PAGES``) is not a silent
"nothing more": the plan says which list was cut short, and the result is not ``ok``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.client import ApiClient, MalformedAnswer, RunAborted, TargetUnreachable
from conformance.safety import item_path
from conformance.target import LEAD, OK_DELETE, SMS, TEMPLATE, TargetRejected, tagged_name_pattern

__all__ = ["CleanupResult", "Leftover", "Plan", "clean_up", "delete_leftovers", "find_leftovers"]

PAGE = 100
MAX_PAGES = 50
# The kind prefixes of Close's ids (close-sms-api.md: ``lead_``, ``acti_``, ``smstmpl_``,
# ``cont_``, ``user_``, ``orga_``, ``memb_``). An id with none of them is taken as it is (other
# servers make other ids); one with another kind's prefix is not deleted as this kind.
OWN_KIND = {LEAD: "lead_", SMS: "acti_", TEMPLATE: "smstmpl_"}
KINDS = ("lead_", "acti_", "smstmpl_", "cont_", "user_", "orga_", "memb_")


@dataclass(frozen=True, slots=True)
class Leftover:
    """One item to delete: ``path`` is ``lead/lead_abc/``; ``what`` describes it for people."""

    collection: str
    id: str
    path: str
    what: str
    lead_path: str | None = None  # for an SMS: the path of its (tagged) lead


@dataclass
class Plan:
    """What :func:`find_leftovers` found, in deletion order (each lead's SMS before it,
    templates last), and what it skipped (with why)."""

    items: list[Leftover] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)  # lists cut short: more may be left

    def __bool__(self) -> bool:
        return bool(self.items)

    def count(self, collection: str) -> int:
        return sum(item.collection == collection for item in self.items)

    def describe(self) -> str:
        """``2 lead(s), 5 SMS, 1 template(s)``."""
        return (
            f"{self.count(LEAD)} lead(s), {self.count(SMS)} SMS, {self.count(TEMPLATE)} template(s)"
        )


@dataclass
class CleanupResult:
    """What was deleted (paths) and what could not be, with why."""

    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # path -> what went wrong
    skipped: list[str] = field(default_factory=list)  # found, not deleted on purpose
    unfinished: list[str] = field(default_factory=list)  # lists not read to their end
    interrupted: bool = False  # Ctrl-C came while deleting

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unfinished and not self.interrupted

    def count(self, collection: str) -> int:
        return sum(path.startswith(collection) for path in self.deleted)

    @property
    def leads(self) -> int:
        return self.count(LEAD)

    @property
    def sms(self) -> int:
        return self.count(SMS)

    @property
    def templates(self) -> int:
        return self.count(TEMPLATE)


def _page(api: ApiClient, path: str, params: dict[str, str]) -> tuple[list[Any], bool]:
    """The ``data`` of one list page and whether more follow; raise when the target cannot
    be listed."""
    exchange, _ = api.send("GET", path, params=params)
    request = exchange.request.path
    response = exchange.response
    if response is None:
        raise TargetUnreachable(f"GET {request}: {exchange.error}")
    if response.status_code in (401, 403):
        raise TargetRejected(
            f"the target refused the credentials (GET {request} answered "
            f"{response.status_code}); nothing was deleted"
        )
    if not 200 <= response.status_code < 300:
        raise TargetRejected(f"GET {request} answered {response.status_code}")
    body = response.body
    if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
        raise MalformedAnswer(f"GET {request} answered something other than a list page")
    data = body.get("data") or []
    return data, body.get("has_more") is True and bool(data)


def _listed(
    api: ApiClient, path: str, params: dict[str, str] | None = None
) -> tuple[list[Any], bool]:
    """Every item of a paged list (at most ``MAX_PAGES`` pages), listed before anything is
    deleted (deleting while paging would skip items), and whether the list was read to its
    end. Each page starts after the items already received: a target whose pages are
    shorter than ``_limit`` has nothing skipped."""
    items: list[Any] = []
    for _ in range(MAX_PAGES):
        query = {**(params or {}), "_skip": str(len(items)), "_limit": str(PAGE)}
        data, more = _page(api, path, query)
        items.extend(data)
        if not more:
            return items, True
    return items, False


def _cut_short(path: str, params: dict[str, str] | None, count: int) -> str:
    query = "".join(f"?{key}={value}" for key, value in (params or {}).items())
    return (
        f"GET {path}{query} still had more after {MAX_PAGES} pages ({count} items); "
        "the rest was not looked at"
    )


def _checked_id(item: dict[str, Any], collection: str, skipped: list[str]) -> str | None:
    try:
        item_path(collection, item.get("id"))
    except MalformedAnswer as error:
        skipped.append(f"skipped an item of {collection}: {error}")
        return None
    item_id: str = item["id"]
    other = next((p for p in KINDS if p != OWN_KIND[collection] and item_id.startswith(p)), None)
    if other is not None:
        skipped.append(
            f"skipped an item of {collection}: its id {item_id!r} is the id of another kind "
            f"of object ({other}...), not one of {collection}"
        )
        return None
    return item_id


def _tagged(api: ApiClient, collection: str, run_id: str | None, plan: Plan) -> list[Leftover]:
    pattern = tagged_name_pattern(run_id)
    found: dict[str, Leftover] = {}
    items, complete = _listed(api, collection)
    if not complete:
        plan.unfinished.append(_cut_short(collection, None, len(items)))
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        if not pattern.fullmatch(item["name"]):
            continue
        item_id = _checked_id(item, collection, plan.skipped)
        if item_id is not None:
            path = item_path(collection, item_id)
            found[path] = Leftover(collection, item_id, path, repr(item["name"]))
    return list(found.values())


def _sms_on(api: ApiClient, lead: Leftover, plan: Plan) -> list[Leftover]:
    """The SMS listed on ``lead`` that say they are on it (others are counted, not kept)."""
    found: dict[str, Leftover] = {}
    foreign = 0
    try:
        items, complete = _listed(api, SMS, {"lead_id": lead.id})
    except (MalformedAnswer, TargetRejected) as error:
        plan.skipped.append(f"could not list the SMS on lead {lead.id} ({error})")
        return []
    if not complete:  # the rest goes with the lead (deleting a lead deletes its activities)
        plan.skipped.append(_cut_short(SMS, {"lead_id": lead.id}, len(items)))
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("lead_id") != lead.id:
            foreign += 1
            continue
        item_id = _checked_id(item, SMS, plan.skipped)
        if item_id is not None:
            path = item_path(SMS, item_id)
            found[path] = Leftover(SMS, item_id, path, f"on lead {lead.id}", lead.path)
    if foreign:
        plan.skipped.append(
            f"GET activity/sms/?lead_id={lead.id} also listed {foreign} SMS of other leads; "
            "left alone"
        )
    return list(found.values())


def find_leftovers(api: ApiClient, *, run_id: str | None = None) -> Plan:
    """List what runs (or run ``run_id``) left: tagged leads with their SMS, tagged templates.

    Deletes nothing. Raises :class:`TargetRejected` (credentials refused, an error status),
    :class:`MalformedAnswer` or :class:`TargetUnreachable` when the lists cannot be read."""
    plan = Plan()
    for lead in _tagged(api, LEAD, run_id, plan):
        plan.items.extend(_sms_on(api, lead, plan))
        plan.items.append(lead)
    plan.items.extend(_tagged(api, TEMPLATE, run_id, plan))
    return plan


def delete_leftovers(api: ApiClient, plan: Plan) -> CleanupResult:
    """Delete what ``plan`` names, in order; one failure does not stop the rest.

    An SMS whose DELETE failed counts as deleted once its lead is (deleting a lead deletes
    its activities)."""
    result = CleanupResult(skipped=list(plan.skipped), unfinished=list(plan.unfinished))
    for index, item in enumerate(plan.items):
        if api.guard is not None:
            api.guard.own(item.collection, item.id)  # checked above: tagged, on a tagged lead
        try:
            problem = _delete(api, item.path)
        except TargetUnreachable as error:
            result.failed[item.path] = str(error)
            for rest in plan.items[index + 1 :]:
                result.failed[rest.path] = f"not tried: {error}"
            break
        except KeyboardInterrupt:
            result.interrupted = True
            result.failed[item.path] = "interrupted while deleting it (it may be gone)"
            for rest in plan.items[index + 1 :]:
                result.failed[rest.path] = "not tried: interrupted"
            break
        except (Exception, RunAborted) as error:  # noqa: BLE001 - one DELETE, not the rest
            problem = f"{type(error).__name__}: {error}"
        if problem is None:
            result.deleted.append(item.path)
        else:
            result.failed[item.path] = problem
        if item.collection == LEAD and problem is None:
            for sms in [p for p, _ in result.failed.items() if _lead_of(plan, p) == item.path]:
                del result.failed[sms]
                result.deleted.append(sms)
    return result


def _lead_of(plan: Plan, path: str) -> str | None:
    return next((item.lead_path for item in plan.items if item.path == path), None)


def _delete(api: ApiClient, path: str) -> str | None:
    exchange, _ = api.send("DELETE", path)
    if exchange.response is None:
        return exchange.error or "no answer"
    if exchange.response.status_code not in OK_DELETE:
        return f"answered {exchange.response.status_code}"
    return None


def clean_up(api: ApiClient, *, run_id: str | None = None) -> CleanupResult:
    """Find and delete, without asking (the CLI shows the plan and asks first)."""
    return delete_leftovers(api, find_leftovers(api, run_id=run_id))
