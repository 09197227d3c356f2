"""`sms-conformance cleanup` against a small fake target that lists whatever a test puts in it:
look-alike names, odd ids, many pages, refusals and errors mid-way.

The fake (``FakeTarget``) stands behind respx at ``https://fake.test/api/v1``. It answers the
three lists cleanup reads (``lead/``, ``activity/sms/?lead_id=``, ``sms_template/``) with
``_skip``/``_limit`` paging and ``has_more``, and a ``DELETE`` of one item of each. Every
request it saw is kept, so the tests assert on the exact paths (``raw_path``: as sent, still
percent-encoded) and on what is left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

import httpx
import pytest
import respx
from click.testing import CliRunner

from conformance import cleanup as cleanup_module
from conformance.cli import EXIT_INCONCLUSIVE, EXIT_PASS, main

HOST = "fake.test"
BASE_URL = f"https://{HOST}/api/v1"
KEY = "fake-target-key-7c2e90"
BASIC = httpx.BasicAuth(KEY, "")._auth_header
RUN = "0123456789ab"
OTHER_RUN = "ba9876543210"
COLLECTIONS = {"lead": "lead/", "sms": "activity/sms/", "template": "sms_template/"}
LISTS = {f"/api/v1/{path}" for path in COLLECTIONS.values()}


def tag(run: str, label: str) -> str:
    return f"sms-conformance {run} {label}"


@dataclass
class FakeTarget:
    """Items by collection (in list order), paged as asked, at most ``page_cap`` a page."""

    items: dict[str, dict[str, dict]] = field(
        default_factory=lambda: {path: {} for path in COLLECTIONS.values()}
    )
    page_cap: int | None = None
    ignore_lead_filter: bool = False
    requests: list[httpx.Request] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)  # (collection, id)
    # Called before the fake answers; a response it returns is the answer instead.
    intercept: Callable[[httpx.Request], httpx.Response | None] | None = None

    # -- seeding ------------------------------------------------------------------------------

    def lead(self, lead_id: object, name: object) -> object:
        self.items["lead/"][repr(lead_id)] = {"id": lead_id, "name": name}
        return lead_id

    def sms(self, sms_id: object, lead_id: object, text: str = "hi") -> object:
        self.items["activity/sms/"][repr(sms_id)] = {"id": sms_id, "lead_id": lead_id, "text": text}
        return sms_id

    def template(self, template_id: object, name: object) -> object:
        self.items["sms_template/"][repr(template_id)] = {"id": template_id, "name": name}
        return template_id

    def exists(self, collection: str, item_id: object) -> bool:
        return repr(item_id) in self.items[collection]

    # -- answering ----------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.intercept is not None and (answer := self.intercept(request)) is not None:
            return answer
        if request.headers.get("authorization") != BASIC:
            return httpx.Response(401, json={"error": "Unauthorized"})
        path = request.url.raw_path.decode().partition("?")[0]
        relative = path.removeprefix("/api/v1/")
        if request.method == "GET" and relative in self.items:
            return self._page(relative, request.url.params)
        if request.method == "DELETE":
            for collection, stored in self.items.items():
                if relative.startswith(collection) and relative.endswith("/"):
                    segment = relative[len(collection) : -1]
                    if "/" in segment:
                        return httpx.Response(404, json={"error": "not found"})
                    item_id = unquote(segment)
                    if repr(item_id) in stored:
                        del stored[repr(item_id)]
                        self.deleted.append((collection, item_id))
                        return httpx.Response(204)
                    return httpx.Response(404, json={"error": "not found"})
        return httpx.Response(404, json={"error": "not found"})

    def _page(self, collection: str, params: httpx.QueryParams) -> httpx.Response:
        listed = list(self.items[collection].values())
        if collection == "activity/sms/" and "lead_id" in params and not self.ignore_lead_filter:
            wanted = params["lead_id"].split(",")
            listed = [item for item in listed if item["lead_id"] in wanted]
        skip = int(params.get("_skip", "0"))
        limit = int(params.get("_limit", "100"))
        if self.page_cap is not None:
            limit = min(limit, self.page_cap)
        page = listed[skip : skip + limit]
        return httpx.Response(200, json={"data": page, "has_more": skip + limit < len(listed)})

    # -- what was asked -----------------------------------------------------------------------

    def paths(self, method: str | None = None) -> list[str]:
        """Request paths exactly as sent (percent-encoded, no query)."""
        return [
            request.url.raw_path.decode().partition("?")[0]
            for request in self.requests
            if method is None or request.method == method
        ]

    def deletes(self) -> set[str]:
        return set(self.paths("DELETE"))


@pytest.fixture
def fake(monkeypatch):
    """A ``FakeTarget`` behind respx (any other host: a failing test, never a real request)."""
    monkeypatch.setattr("conformance.clock.SystemClock.sleep", lambda self, seconds: None)
    target = FakeTarget()
    with respx.mock(assert_all_called=False) as router:
        router.route(host=HOST).mock(side_effect=target)
        yield target


def cleanup(*args: str, key: str = KEY):
    return CliRunner().invoke(
        main,
        ["cleanup", "--base-url", BASE_URL, "--api-key", key, *args],
        env={"CLOSE_API_URL": "", "CLOSE_API_KEY": "", "CLOSE_OAUTH_TOKEN": ""},
        catch_exceptions=False,
    )


def delete_path(collection: str, item_id: str) -> str:
    return f"/api/v1/{collection}{quote(item_id, safe='')}/"


def seed_runs(fake: FakeTarget) -> dict[str, set[str]]:
    """Two runs' leftovers (a lead with two SMS, a template each): the DELETE paths, by run."""
    left: dict[str, set[str]] = {}
    for run in (RUN, OTHER_RUN):
        lead = fake.lead(f"lead_{run}", tag(run, "lead 0"))
        sms = [fake.sms(f"acti_{run}_{index}", lead, tag(run, "lead 0")) for index in range(2)]
        template = fake.template(f"smstmpl_{run}", tag(run, "template"))
        left[run] = {
            delete_path("lead/", lead),
            *(delete_path("activity/sms/", item) for item in sms),
            delete_path("sms_template/", template),
        }
    return left


# -- look-alike names -------------------------------------------------------------------------

LOOK_ALIKE_NAMES = {
    "extra-prefix": f"x {tag(RUN, 'lead 0')}",
    "extra-suffix": f"{tag(RUN, 'lead 0')} copy",
    "inside-a-longer-name": f"Notes: {tag(RUN, 'lead 0')} (copied from the docs)",
    "trailing-newline": f"{tag(RUN, 'lead 0')}\n",
    "trailing-space": f"{tag(RUN, 'lead 0')} ",
    "leading-space": f" {tag(RUN, 'lead 0')}",
    "double-space": f"sms-conformance  {RUN} lead 0",
    "tab-for-space": f"sms-conformance\t{RUN} lead 0",
    "no-break-space": f"sms-conformance\u00a0{RUN} lead 0",
    "zero-width-space": f"sms-conformance\u200b {RUN} lead 0",
    "upper-case-tag": f"SMS-CONFORMANCE {RUN} lead 0",
    "upper-case-run-id": f"sms-conformance {RUN.upper()} lead 0",
    "upper-case-label": f"sms-conformance {RUN} Lead 0",
    "cyrillic-dze-for-s": f"\u0455ms-conformance {RUN} lead 0",
    "unicode-hyphen": f"sms\u2010conformance {RUN} lead 0",
    "fullwidth-digit-in-run-id": f"sms-conformance \uff10{RUN[1:]} lead 0",
    "arabic-indic-digit-in-label": f"sms-conformance {RUN} lead \u0660",
    "mathematical-digit-in-label": f"sms-conformance {RUN} lead \U0001d7ce",
    "cyrillic-a-in-run-id": f"sms-conformance {RUN[:10]}\u0430b lead 0",
    "run-id-one-short": f"sms-conformance {RUN[:-1]} lead 0",
    "run-id-one-long": f"sms-conformance {RUN}0 lead 0",
    "run-id-not-hex": "sms-conformance 0123456789ag lead 0",
    "no-label": f"sms-conformance {RUN}",
    "no-run-id": "sms-conformance lead 0",
    "words-for-run-id": "sms-conformance customers list",
    "label-with-digits-first": f"sms-conformance {RUN} 0 lead",
    "combining-mark": f"sms-conformance {RUN} le\u0301ad 0",
}


@pytest.mark.parametrize("name", LOOK_ALIKE_NAMES.values(), ids=LOOK_ALIKE_NAMES.keys())
def test_a_lead_or_template_named_like_a_run_tag_but_not_one_is_never_deleted(fake, name):
    left = seed_runs(fake)
    lead = fake.lead("lead_customer", name)
    sms = fake.sms("acti_customer", lead, text=f"about {name}")
    template = fake.template("smstmpl_customer", name)
    result = cleanup("--yes")
    assert result.exit_code == EXIT_PASS, result.output
    assert fake.deletes() == left[RUN] | left[OTHER_RUN]
    assert fake.exists("lead/", lead) and fake.exists("sms_template/", template)
    assert fake.exists("activity/sms/", sms)
    assert "customer" not in result.output


@pytest.mark.parametrize("name", LOOK_ALIKE_NAMES.values(), ids=LOOK_ALIKE_NAMES.keys())
def test_a_look_alike_is_never_deleted_with_a_run_id_either(fake, name):
    left = seed_runs(fake)
    fake.lead("lead_customer", name)
    fake.template("smstmpl_customer", name)
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_PASS, result.output
    assert fake.deletes() == left[RUN]


def test_every_tagged_label_a_run_gives_is_deleted_and_nothing_else(fake):
    """The labels runs use (``lead 0``, ``lead 1``, ``template``, ``ledger``, ``bulk``) are
    all found: the look-alike tests above are not passing because nothing matches."""
    wanted = set()
    for index, label in enumerate(["lead 0", "lead 1", "ledger", "bulk", "lead 12"]):
        wanted.add(delete_path("lead/", fake.lead(f"lead_{index}", tag(RUN, label))))
    wanted.add(delete_path("sms_template/", fake.template("smstmpl_1", tag(RUN, "template"))))
    fake.lead("lead_customer", "Acme")
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_PASS, result.output
    assert fake.deletes() == wanted
    assert "deleted 5 lead(s), 0 SMS, 1 template(s)" in result.output


# -- which runs -------------------------------------------------------------------------------


def test_with_a_run_id_only_that_runs_objects_are_deleted(fake):
    left = seed_runs(fake)
    result = cleanup("--run-id", OTHER_RUN)
    assert result.exit_code == EXIT_PASS, result.output
    assert fake.deletes() == left[OTHER_RUN]
    assert fake.exists("lead/", f"lead_{RUN}") and fake.exists("sms_template/", f"smstmpl_{RUN}")
    assert "deleted 1 lead(s), 2 SMS, 1 template(s)" in result.output


def test_a_run_id_that_is_the_start_of_another_runs_id_deletes_none_of_that_run(fake):
    left = seed_runs(fake)
    short = RUN[:10]  # a valid --run-id (8 to 32 hex digits), the start of RUN
    own = delete_path("lead/", fake.lead("lead_short", tag(short, "lead 0")))
    result = cleanup("--run-id", short)
    assert result.exit_code == EXIT_PASS, result.output
    assert fake.deletes() == {own}
    assert not fake.deletes() & left[RUN]


def test_without_a_run_id_every_runs_tagged_objects_are_deleted(fake):
    left = seed_runs(fake)
    result = cleanup("--yes")
    assert result.exit_code == EXIT_PASS, result.output
    assert fake.deletes() == left[RUN] | left[OTHER_RUN]
    assert "deleted 2 lead(s), 4 SMS, 2 template(s)" in result.output


# -- SMS that are not on a suite lead ---------------------------------------------------------


@pytest.mark.parametrize("ignore_lead_filter", [False, True], ids=["filtering", "ignoring-filter"])
def test_an_sms_mentioning_the_tag_on_a_customers_lead_is_never_deleted(fake, ignore_lead_filter):
    fake.ignore_lead_filter = ignore_lead_filter
    left = seed_runs(fake)
    customer = fake.lead("lead_customer", "Acme")
    mentions = fake.sms("acti_mentions", customer, text=tag(RUN, "lead 0"))
    named = fake.sms("acti_named", customer, text=f"lead_{RUN}")
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_PASS, result.output
    assert fake.deletes() == left[RUN]
    assert fake.exists("activity/sms/", mentions) and fake.exists("activity/sms/", named)


@pytest.mark.parametrize(
    "says_lead",
    ["lead_customer", None, "", f"lead_{RUN} ", f"LEAD_{RUN}", f"lead_{RUN}".encode().hex(), 7],
    ids=["customers-lead", "null", "empty", "trailing-space", "upper-case", "hex", "number"],
)
def test_an_sms_listed_under_a_tagged_lead_but_saying_another_lead_is_never_deleted(
    fake, says_lead
):
    """The target lists it for ``lead_id=<tagged lead>`` (a filter bug, or worse), but the SMS
    itself names another lead (or none): it is not the run's."""
    left = seed_runs(fake)
    fake.lead("lead_customer", "Acme")
    stray = fake.sms("acti_stray", f"lead_{RUN}")

    def forged(request: httpx.Request) -> httpx.Response | None:
        if request.method == "GET" and request.url.path.endswith("/activity/sms/"):
            answer = fake._page("activity/sms/", request.url.params)
            body = answer.json()
            for item in body["data"]:
                if item["id"] == stray:
                    item["lead_id"] = says_lead
            return httpx.Response(200, json=body)
        return None

    fake.intercept = forged
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_PASS, result.output
    assert fake.deletes() == left[RUN]
    assert fake.exists("activity/sms/", stray)
    assert "SMS of other leads" in result.output


# -- odd ids ----------------------------------------------------------------------------------

# Ids a path segment cannot hold: never sent anywhere, the item is skipped with a note.
UNSENDABLE_IDS = {
    "slash": "lead_a/../../sms_template/smstmpl_customer",
    "dot-dot": "..",
    "dot": ".",
    "backslash": "lead_a\\..\\b",
    "question-mark": "lead_a?lead_id=lead_customer",
    "hash": "lead_a#x",
    "newline": "lead_a\nDELETE /lead/lead_customer/",
    "nul": "lead_a\x00",
    "empty": "",
    "number": 12345,
    "null": None,
    "list": ["lead_customer"],
}

# Ids a path segment can hold once percent-encoded: sent, encoded, never as they are.
ENCODED_IDS = {
    "url-encoded-slash": "lead_a%2F..%2Fsms_template%2Fsmstmpl_customer",
    "url-encoded-dot-dot": "%2e%2e",
    "double-encoded": "lead_a%252F",
    "space-and-semicolon": "lead_a b;c=d",
    "unicode": "lead_\u00e9\u2215x",
    "fullwidth-solidus": "lead_a\uff0fb",
    "very-long": "lead_" + "a" * 5000,
    "dots-inside": "lead_a..b",
    "plus-and-ampersand": "lead_a+b&c",
}


@pytest.mark.parametrize("odd", UNSENDABLE_IDS.values(), ids=UNSENDABLE_IDS.keys())
def test_a_tagged_item_with_an_id_no_path_can_hold_is_skipped_and_never_sent(fake, odd):
    left = seed_runs(fake)
    fake.lead("lead_customer", "Acme")
    fake.template("smstmpl_customer", "Customer welcome")
    fake.lead(odd, tag(RUN, "lead 1"))
    fake.template(odd, tag(RUN, "template"))
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_PASS, result.output
    assert fake.deletes() == left[RUN]
    assert result.output.count("skipped: skipped an item of") == 2
    assert fake.exists("lead/", "lead_customer")
    assert fake.exists("sms_template/", "smstmpl_customer")
    # No request at all named it: not the SMS list's lead_id, not a DELETE.
    for request in fake.requests:
        assert "lead_customer" not in unquote(str(request.url))
        if isinstance(odd, str) and len(odd) > 2:
            assert odd not in unquote(str(request.url))


@pytest.mark.parametrize("odd", ENCODED_IDS.values(), ids=ENCODED_IDS.keys())
def test_a_tagged_item_with_an_odd_id_is_deleted_at_its_percent_encoded_path_only(fake, odd):
    left = seed_runs(fake)
    fake.lead("lead_customer", "Acme")
    fake.template("smstmpl_customer", "Customer welcome")
    fake.lead(odd, tag(RUN, "lead 1"))
    sms = fake.sms("acti_on_odd", odd)
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_PASS, result.output
    expected = left[RUN] | {
        f"/api/v1/lead/{quote(odd, safe='')}/",
        "/api/v1/activity/sms/acti_on_odd/",
    }
    assert fake.deletes() == expected
    assert not fake.exists("lead/", odd) and not fake.exists("activity/sms/", sms)
    assert fake.exists("lead/", "lead_customer")
    assert fake.exists("sms_template/", "smstmpl_customer")
    # Every request went to one of the three lists or to one of these encoded paths.
    assert set(fake.paths()) <= LISTS | expected
    # The SMS of the odd lead were asked for with its id as the query value, whole.
    asked = [r.url.params.get("lead_id") for r in fake.requests if "lead_id" in r.url.params]
    assert odd in asked


@pytest.mark.parametrize(
    ("collection", "odd"),
    [
        ("lead/", "acti_customer"),
        ("lead/", "smstmpl_customer"),
        ("sms_template/", "lead_customer"),
        ("sms_template/", "acti_customer"),
        ("activity/sms/", "lead_customer"),
        ("activity/sms/", "smstmpl_customer"),
        ("activity/sms/", "cont_customer"),
    ],
    ids=lambda value: value.rstrip("/").replace("/", "-"),
)
def test_a_tagged_item_whose_id_is_another_kind_of_object_is_never_deleted(fake, collection, odd):
    """Close's ids carry their kind (``lead_``, ``acti_``, ``smstmpl_``, ``cont_``): a lead
    listed with an SMS's id, or an SMS with a lead's, is not what it says it is, and a DELETE
    naming it is never sent (on a server that finds objects by id alone it would delete the
    customer's object)."""
    left = seed_runs(fake)
    if collection == "lead/":
        fake.lead(odd, tag(RUN, "lead 1"))
    elif collection == "sms_template/":
        fake.template(odd, tag(RUN, "template"))
    else:
        fake.sms(odd, f"lead_{RUN}")
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_PASS, result.output
    assert fake.deletes() == left[RUN]
    assert not [path for path in fake.paths() if odd in path]
    assert "skipped: " in result.output and odd in result.output


def test_an_untagged_item_with_an_odd_id_is_never_asked_about(fake):
    left = seed_runs(fake)
    odd_ids = [*UNSENDABLE_IDS.values(), *ENCODED_IDS.values()]
    for index, odd in enumerate(odd_ids):
        fake.lead(odd, f"Customer {index}")
        fake.template(odd, f"Customer template {index}")
    result = cleanup("--yes")
    assert result.exit_code == EXIT_PASS, result.output
    assert fake.deletes() == left[RUN] | left[OTHER_RUN]
    assert "skipped" not in result.output
    assert len(fake.items["lead/"]) == len(odd_ids)


# -- pagination -------------------------------------------------------------------------------


def test_every_page_of_every_list_is_read_so_a_tagged_item_on_a_late_page_is_deleted(fake):
    wanted = set()
    for index in range(250):
        name = tag(RUN, f"lead {index}") if index in (0, 99, 100, 249) else f"Customer {index}"
        lead = fake.lead(f"lead_{index}", name)
        if index == 249:
            for number in range(130):
                wanted.add(delete_path("activity/sms/", fake.sms(f"acti_{number}", lead)))
        if name.startswith("sms-"):
            wanted.add(delete_path("lead/", lead))
    for index in range(120):
        name = tag(RUN, "template") if index == 119 else f"Template {index}"
        template = fake.template(f"smstmpl_{index}", name)
        if index == 119:
            wanted.add(delete_path("sms_template/", template))
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_PASS, result.output
    assert fake.deletes() == wanted
    skips = [r.url.params["_skip"] for r in fake.requests if r.url.path == "/api/v1/lead/"]
    assert skips == ["0", "100", "200"]


@pytest.mark.parametrize("cap", [1, 7, 99])
def test_a_target_that_pages_shorter_than_asked_still_has_every_tagged_item_found(fake, cap):
    """A page shorter than ``_limit`` with ``has_more`` true: the next page starts after what
    came, not ``_limit`` further on (which would skip items)."""
    fake.page_cap = cap
    wanted = set()
    for index in range(30):
        name = tag(RUN, f"lead {index}") if index % 4 == 1 else f"Customer {index}"
        lead = fake.lead(f"lead_{index}", name)
        if index % 4 == 1:
            wanted.add(delete_path("lead/", lead))
            for number in range(3):
                wanted.add(delete_path("activity/sms/", fake.sms(f"acti_{index}_{number}", lead)))
    for index in range(12):
        name = tag(RUN, "template") if index in (3, 11) else f"Template {index}"
        template = fake.template(f"smstmpl_{index}", name)
        if index in (3, 11):
            wanted.add(delete_path("sms_template/", template))
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_PASS, result.output
    assert fake.deletes() == wanted


def test_a_list_longer_than_cleanup_reads_is_reported_not_silently_cut(fake, monkeypatch):
    monkeypatch.setattr(cleanup_module, "MAX_PAGES", 2)
    for index in range(250):
        name = tag(RUN, "lead 0") if index in (5, 240) else f"Customer {index}"
        fake.lead(f"lead_{index}", name)
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert fake.deletes() == {"/api/v1/lead/lead_5/"}
    assert "lead/" in result.output and "200" in result.output
    assert "more" in result.output


def test_a_list_longer_than_cleanup_reads_with_nothing_found_is_not_nothing_to_delete(
    fake, monkeypatch
):
    monkeypatch.setattr(cleanup_module, "MAX_PAGES", 2)
    for index in range(250):
        fake.lead(f"lead_{index}", tag(RUN, "lead 0") if index == 240 else f"Customer {index}")
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert not fake.deletes()
    assert "nothing to delete" not in result.output


def test_a_target_that_ignores_skip_and_repeats_its_first_page_does_not_loop(fake):
    left = seed_runs(fake)
    fake.page_cap = 3

    def first_page_forever(request: httpx.Request) -> httpx.Response | None:
        if request.method == "GET" and request.url.path == "/api/v1/lead/":
            page = list(fake.items["lead/"].values())[:3]
            return httpx.Response(200, json={"data": page, "has_more": True})
        return None

    fake.intercept = first_page_forever
    result = cleanup("--run-id", RUN)
    assert result.exit_code in (EXIT_PASS, EXIT_INCONCLUSIVE), result.output
    assert fake.deletes() <= left[RUN]
    assert len(fake.paths("GET")) < 200


# -- refused credentials ----------------------------------------------------------------------


@pytest.mark.parametrize("scope", [("--yes",), ("--run-id", RUN)], ids=["every-run", "one-run"])
def test_a_refused_key_exits_3_saying_so_and_deletes_nothing(fake, scope):
    left = seed_runs(fake)
    result = cleanup(*scope, key="a-wrong-key-0000")
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert "inconclusive: the target refused the credentials" in result.output
    assert "answered 401" in result.output and "nothing was deleted" in result.output
    assert "deleted 0" not in result.output
    assert not fake.paths("DELETE")
    assert all(fake.exists("lead/", f"lead_{run}") for run in left)


def test_a_key_refused_on_a_later_page_exits_3_and_deletes_nothing(fake):
    seed_runs(fake)
    for index in range(150):
        fake.lead(f"lead_c{index}", f"Customer {index}")

    def refuse_page_two(request: httpx.Request) -> httpx.Response | None:
        if request.url.params.get("_skip") == "100":
            return httpx.Response(401, json={"error": "Unauthorized"})
        return None

    fake.intercept = refuse_page_two
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert "refused the credentials" in result.output
    assert not fake.paths("DELETE")


# -- interrupted ------------------------------------------------------------------------------


def test_a_target_lost_mid_way_reports_what_was_deleted_and_what_was_not(fake):
    """The order is run 1's SMS, its lead, run 2's SMS, its lead, the templates. After two
    DELETEs the connection is refused: the lead's tries (and the first of the next) fail,
    the client gives up on the target, and what follows is not tried at all."""
    seed_runs(fake)
    deletes = 0

    def lost_after_two_deletes(request: httpx.Request) -> httpx.Response | None:
        nonlocal deletes
        if request.method == "DELETE":
            deletes += 1
            if deletes > 2:
                raise httpx.ConnectError("connection refused")
        return None

    fake.intercept = lost_after_two_deletes
    result = cleanup("--yes")
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    done = [f"activity/sms/acti_{RUN}_0/", f"activity/sms/acti_{RUN}_1/"]
    tried = [f"lead/lead_{RUN}/", f"activity/sms/acti_{OTHER_RUN}_0/"]
    never = [f"activity/sms/acti_{OTHER_RUN}_1/", f"lead/lead_{OTHER_RUN}/",
             f"sms_template/smstmpl_{RUN}/", f"sms_template/smstmpl_{OTHER_RUN}/"]  # fmt: skip
    sent = {path.removeprefix("/api/v1/") for path in fake.paths("DELETE")}
    assert sent == set(done + tried)
    assert [item for _, item in fake.deleted] == [f"acti_{RUN}_0", f"acti_{RUN}_1"]
    for path in done:
        assert f"  deleted {path}\n" in result.output
    for path in tried:
        line = next(x for x in result.output.splitlines() if f"could not delete {path}:" in x)
        assert "not tried" not in line
    for path in never:
        assert f"could not delete {path}: not tried: " in result.output
    assert "deleted 0 lead(s), 2 SMS, 0 template(s); 6 item(s) could not be deleted" in (
        result.output
    )


def test_a_ctrl_c_mid_way_reports_what_was_deleted_and_what_was_not(fake):
    left = seed_runs(fake)
    deletes = 0

    def interrupt_the_third_delete(request: httpx.Request) -> httpx.Response | None:
        nonlocal deletes
        if request.method == "DELETE":
            deletes += 1
            if deletes == 3:
                raise KeyboardInterrupt
        return None

    fake.intercept = interrupt_the_third_delete
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert "Aborted" not in result.output
    assert f"deleted activity/sms/acti_{RUN}_0/" in result.output
    assert f"deleted activity/sms/acti_{RUN}_1/" in result.output
    assert f"could not delete lead/lead_{RUN}/: interrupted" in result.output
    assert f"could not delete sms_template/smstmpl_{RUN}/: not tried" in result.output
    assert fake.exists("sms_template/", f"smstmpl_{RUN}")
    assert len(fake.paths("DELETE")) == 3
    assert {delete_path("sms_template/", f"smstmpl_{RUN}")} == left[RUN] - fake.deletes()


def test_an_error_answer_mid_way_does_not_stop_the_rest_and_is_reported(fake):
    left = seed_runs(fake)

    def lead_delete_fails(request: httpx.Request) -> httpx.Response | None:
        if request.method == "DELETE" and request.url.path == f"/api/v1/lead/lead_{RUN}/":
            return httpx.Response(500, json={"error": "boom"})
        return None

    fake.intercept = lead_delete_fails
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert fake.deletes() == left[RUN]
    assert f"could not delete lead/lead_{RUN}/: answered 500" in result.output
    assert f"deleted sms_template/smstmpl_{RUN}/" in result.output
    assert "deleted 0 lead(s), 2 SMS, 1 template(s); 1 item(s) could not be deleted" in (
        result.output
    )


def test_a_ctrl_c_while_listing_says_nothing_was_deleted_and_exits_3(fake):
    seed_runs(fake)

    def interrupt_the_template_list(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/api/v1/sms_template/":
            raise KeyboardInterrupt
        return None

    fake.intercept = interrupt_the_template_list
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert "interrupted while listing; nothing was deleted" in result.output
    assert not fake.paths("DELETE")
