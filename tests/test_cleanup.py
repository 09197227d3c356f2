"""`sms-conformance cleanup` deletes what runs left, and nothing a customer owns.

The target is ``https://hostile.test/api/v1`` (``tests/engine/hostile.py``): the reference
server behind respx, seeded with a customer's data (a lead named like the tag, "sms-conformance
customers list", with its SMS) next to what two runs left (tagged leads with SMS, a tagged
template). ``/activity/sms/`` answers correctly, or ignores the ``lead_id`` filter.
"""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner

from conformance.cli import EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_USAGE, main

from .engine.hostile import BASE_URL, SECRET, assert_no_secret_in, hostile_target

RUN = "0123456789ab"
OTHER_RUN = "ba9876543210"


def correct(request: httpx.Request, reference) -> httpx.Response:
    return reference(request)


def ignoring_the_lead_filter(request: httpx.Request, reference) -> httpx.Response:
    """Lists every SMS of the organisation, whatever ``lead_id`` asks for."""
    params = [(k, v) for k, v in request.url.params.multi_items() if k != "lead_id"]
    unfiltered = httpx.Request(
        request.method,
        request.url.copy_with(params=params),
        headers=request.headers,
        content=request.read(),
    )
    return reference(unfiltered)


class Account:
    """The seeded organisation, seen through the reference server directly."""

    def __init__(self, server) -> None:
        self.client = server.client()
        self.local_phone = server.orgs[0].internal_numbers[0]

    def lead(self, name: str, sms: int = 2) -> tuple[str, list[str]]:
        lead = self.client.post("/lead/", json={"name": name, "contacts": [{"name": "Bo"}]})
        lead_id = lead.json()["id"]
        ids = [
            self.client.post(
                "/activity/sms/",
                json={
                    "lead_id": lead_id,
                    "status": "draft",
                    "local_phone": self.local_phone,
                    "remote_phone": "+15555550100",
                    "text": f"{name} {index}",
                },
            ).json()["id"]
            for index in range(sms)
        ]
        return lead_id, ids

    def template(self, name: str) -> str:
        return self.client.post("/sms_template/", json={"name": name, "text": "hi"}).json()["id"]

    def exists(self, path: str) -> bool:
        return self.client.get(path).status_code == 200


@pytest.fixture
def seeded(monkeypatch):
    """Yield (hostile fake, account, what the customer owns, what the runs left)."""

    def seed(sms=correct):
        context = hostile_target(sms, monkeypatch)
        hostile = context.__enter__()
        account = Account(hostile.api.server)
        customer_lead, customer_sms = account.lead("sms-conformance customers list", sms=3)
        customer = [f"/lead/{customer_lead}/", *(f"/activity/sms/{i}/" for i in customer_sms)]
        customer.append(f"/sms_template/{account.template('sms-conformance customers')}/")
        left = {}
        for run in (RUN, OTHER_RUN):
            lead_id, sms_ids = account.lead(f"sms-conformance {run} lead 0")
            template_id = account.template(f"sms-conformance {run} template")
            left[run] = [
                f"/lead/{lead_id}/",
                *(f"/activity/sms/{i}/" for i in sms_ids),
                f"/sms_template/{template_id}/",
            ]
        opened.append(context)
        return hostile, account, customer, left

    opened: list = []
    yield seed
    for context in opened:
        context.__exit__(None, None, None)


def cleanup(*args: str, key: str = SECRET, input: str | None = None):
    return CliRunner().invoke(
        main,
        ["cleanup", "--base-url", BASE_URL, "--api-key", key, *args],
        input=input,
        env={"CLOSE_API_URL": "", "CLOSE_API_KEY": "", "CLOSE_OAUTH_TOKEN": ""},
        catch_exceptions=False,
    )


def test_cleanup_yes_deletes_every_runs_leftovers_and_the_customers_look_alike_survives(seeded):
    _, account, customer, left = seeded()
    result = cleanup("--yes")
    assert result.exit_code == EXIT_PASS, result.output
    assert "deleted 2 lead(s), 4 SMS, 2 template(s)" in result.output
    assert all(account.exists(path) for path in customer)
    assert not any(account.exists(path) for path in left[RUN] + left[OTHER_RUN])
    assert_no_secret_in(result.output)


def test_cleanup_with_a_run_id_deletes_that_run_only_without_asking(seeded):
    _, account, customer, left = seeded()
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_PASS, result.output
    assert not any(account.exists(path) for path in left[RUN])
    assert all(account.exists(path) for path in left[OTHER_RUN] + customer)


def test_a_server_ignoring_the_lead_filter_does_not_get_a_customers_sms_deleted(seeded):
    hostile, account, customer, left = seeded(ignoring_the_lead_filter)
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_PASS, result.output
    assert "SMS of other leads" in result.output
    assert all(account.exists(path) for path in customer + left[OTHER_RUN])
    deleted = {r.url.path for r in hostile.requests if r.method == "DELETE"}
    assert deleted == {path.replace("/", "/api/v1/", 1) for path in left[RUN]}


def test_cleanup_without_a_run_id_and_without_a_terminal_refuses_and_deletes_nothing(seeded):
    hostile, account, customer, left = seeded()
    result = cleanup()
    assert result.exit_code == EXIT_USAGE
    assert "--yes" in result.output and "--run-id" in result.output
    assert not [r for r in hostile.requests if r.method == "DELETE"]
    assert all(account.exists(path) for path in left[RUN])


def test_cleanup_shows_what_it_would_delete_and_a_no_deletes_nothing(seeded, monkeypatch):
    hostile, account, _, left = seeded()
    monkeypatch.setattr("conformance.cli._cleanup._interactive", lambda: True)
    result = cleanup(input="n\n")
    assert result.exit_code == EXIT_PASS, result.output
    assert "nothing was deleted" in result.output
    for run in (RUN, OTHER_RUN):
        assert f"sms-conformance {run} lead 0" in result.output
    assert "customers" not in result.output
    assert not [r for r in hostile.requests if r.method == "DELETE"]


def test_cleanup_asks_and_a_yes_deletes(seeded, monkeypatch):
    _, account, customer, left = seeded()
    monkeypatch.setattr("conformance.cli._cleanup._interactive", lambda: True)
    result = cleanup(input="y\n")
    assert result.exit_code == EXIT_PASS, result.output
    assert not any(account.exists(path) for path in left[RUN] + left[OTHER_RUN])
    assert all(account.exists(path) for path in customer)


def test_cleanup_with_a_wrong_key_is_inconclusive_not_deleted_zero(seeded):
    _, account, _, left = seeded()
    result = cleanup("--yes", key="a-wrong-key-1234")
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert "refused the credentials" in result.output
    assert "deleted 0" not in result.output
    assert "a-wrong-key-1234" not in result.output
    assert all(account.exists(path) for path in left[RUN])


def test_cleanup_lists_what_it_could_not_delete_and_exits_3(seeded, monkeypatch):
    hostile, account, _, left = seeded()
    stuck = left[RUN][-1]  # the run's template
    reference = hostile.api.reference

    def failing(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE" and request.url.path.endswith(stuck):
            return httpx.Response(503, text="busy")
        return reference(request)

    monkeypatch.setattr(hostile.api, "reference", failing)
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert f"could not delete {stuck.lstrip('/')}: answered 503" in result.output
    assert f"deleted {left[RUN][0].lstrip('/')}" in result.output
    assert not account.exists(left[RUN][0])


def test_cleanup_refuses_a_run_id_that_is_not_one(seeded):
    seeded()
    result = cleanup("--run-id", "sms-conformance ")
    assert result.exit_code == EXIT_USAGE
    assert "--run-id" in result.output


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("scope", [(), ("--run-id", RUN)], ids=["every-run", "one-run"])
def test_cleanup_whose_every_request_is_refused_exits_3_and_says_the_credentials_were_refused(
    seeded, monkeypatch, status, scope
):
    hostile, account, _, left = seeded()
    monkeypatch.setattr(
        hostile.api, "reference", lambda request: httpx.Response(status, json={"error": "no"})
    )
    result = cleanup("--yes", *scope)
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert (
        f"inconclusive: the target refused the credentials (GET lead/?_skip=0&_limit=100 "
        f"answered {status}); nothing was deleted"
    ) in result.output
    assert "deleted 0" not in result.output
    assert all(account.exists(path) for path in left[RUN] + left[OTHER_RUN])


def test_cleanup_whose_deletes_are_refused_exits_3_and_says_the_credentials_were_refused(
    seeded, monkeypatch
):
    hostile, account, _, left = seeded()
    reference = hostile.api.reference

    def read_only_key(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(403, json={"error": "read-only key"})
        return reference(request)

    monkeypatch.setattr(hostile.api, "reference", read_only_key)
    result = cleanup("--run-id", RUN)
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert "deleted 0 lead(s), 0 SMS, 0 template(s)" not in result.output.splitlines()
    assert (
        f"the target refused the credentials for every DELETE (answered 403): "
        f"{len(left[RUN])} item(s) could not be deleted"
    ) in result.output
    assert all(account.exists(path) for path in left[RUN])


def test_what_a_runs_fixtures_and_sms_are_is_exactly_what_cleanup_with_its_run_id_deletes(
    monkeypatch,
):
    """Two runs set up their fixtures the way every run does (``Target.discover``: tagged
    leads and a tagged template) on an account with a customer's data (look-alike leads
    among it), create SMS on their leads, and leave without cleaning up. ``cleanup --run-id``
    of the first sends a DELETE for each thing the first run made and for nothing else."""
    from conformance.client import Credentials
    from conformance.target import remote_target

    from .engine.hostile import seed_customer

    with hostile_target(correct, monkeypatch) as hostile:
        customer = seed_customer(hostile.api)
        runs = []
        for _ in range(2):
            target = remote_target(BASE_URL, Credentials(SECRET, None), allow_send=False)
            fixtures = target.discover()
            made = list(target.created)
            for lead_id, contact_id in fixtures.leads:
                exchange, _ = target.api.send(
                    "POST",
                    "activity/sms/",
                    json_body={
                        "status": "draft",
                        "lead_id": lead_id,
                        "contact_id": contact_id,
                        "local_phone": fixtures.internal_phones[0],
                        "remote_phone": fixtures.remote_phones[0],
                        "text": f"a draft of run {target.run_id}",
                    },
                )
                made.append(f"activity/sms/{exchange.response.body['id']}/")
            target.api.http.close()  # left behind: no clean-up
            runs.append((target.run_id, made))
        (first, first_made), (_, second_made) = runs
        assert len(first_made) >= 3 and any(p.startswith("sms_template/") for p in first_made)
        asked_before = len(hostile.requests)
        result = cleanup("--run-id", first)
        assert result.exit_code == EXIT_PASS, result.output
        deleted = [r.url.raw_path.decode() for r in hostile.requests[asked_before:]
                   if r.method == "DELETE"]  # fmt: skip
        assert sorted(deleted) == sorted(f"/api/v1/{path}" for path in first_made)
        account = Account(hostile.api.server)
        assert not any(account.exists(f"/{path}") for path in first_made)
        assert all(account.exists(f"/{path}") for path in second_made)
        assert customer.changes(hostile.api) == []
