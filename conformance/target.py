"""Targets: where a run sends its requests, and the fixtures it needs there.

:func:`embedded_target` starts the reference server in-process on a virtual clock;
:func:`remote_target` points at a base URL over real HTTP. Either way the fixtures (user,
internal numbers, leads with contacts, a template) come from the documented endpoints,
and what the run created is deleted by :meth:`Target.close`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

from conformance.client import ApiClient, Credentials, TargetUnreachable
from conformance.clock import Clock, SystemClock, VirtualClock
from conformance.fixtures import Fixtures
from conformance.model import E164, Timing

__all__ = [
    "ConfigurationError",
    "GivenFixtures",
    "Target",
    "TargetRejected",
    "embedded_target",
    "remote_target",
]

TEMPLATE_TEXT = "Hi {{ contact.first_name }}, this is a conformance check."
CONTACT_NAMES = ("Ada Lovelace", "Grace Hopper")
# Numbers reserved for fiction (NANP 555-0100..0199): a sent SMS reaches nobody.
FICTIONAL_RECIPIENTS = ("+15555550100", "+15555550101")
TAG = "sms-conformance"  # every lead and template a run creates is named "<TAG> <run id> ..."
EMBEDDED_ID_SEED = 0
EMBEDDED_RATE_LIMIT = 15  # requests per (virtual) second and key


class ConfigurationError(Exception):
    """The run cannot start as configured (a missing prerequisite, a bad option)."""


class TargetRejected(Exception):
    """The target refused the credentials or answered a fixture request unusably."""


@dataclass(frozen=True, slots=True)
class GivenFixtures:
    """Fixtures named by the user, for targets that restrict the endpoints that make them:
    the run uses these instead of creating leads or a template or listing phone numbers,
    and does not delete them."""

    lead_ids: tuple[str, ...] = ()
    local_phones: tuple[str, ...] = ()
    template_id: str | None = None


@dataclass
class Target:
    """A server under test, its clock, credentials and the fixtures found on it."""

    name: str
    api: ApiClient
    clock: Clock
    timing: Timing
    embedded: bool
    allow_send: bool
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    fixtures: Fixtures | None = None
    created: list[str] = field(default_factory=list)  # fixture paths to DELETE at the end
    server: object | None = None
    recipients: tuple[str, ...] = FICTIONAL_RECIPIENTS  # remote_phone values the run may use
    given: GivenFixtures = field(default_factory=lambda: GivenFixtures())

    @property
    def has_second_org(self) -> bool:
        return bool(self.api.credentials.second_api_key)

    @property
    def has_oauth(self) -> bool:
        return bool(self.api.credentials.oauth_token)

    def _json(self, method: str, path: str, body: object = None) -> dict:
        exchange, _ = self.api.send(method, path, json_body=body)
        response = exchange.response
        if response is None:
            raise TargetUnreachable(f"{method} {path}: {exchange.error}")
        if response.status_code in (401, 403):
            raise TargetRejected(
                f"the target refused the credentials ({method} {path} answered "
                f"{response.status_code})"
            )
        if not 200 <= response.status_code < 300 or not isinstance(response.body, dict):
            raise TargetRejected(
                f"{method} {path} answered {response.status_code}; cannot set up fixtures"
            )
        return response.body

    def discover(self) -> Fixtures:
        """Find or create the fixtures through the documented endpoints."""
        me = self._json("GET", "me/")
        organizations = me.get("organizations") or [{}]
        organization_id = organizations[0].get("id") or me.get("organization_id") or ""
        given = self.given
        if given.local_phones:
            internal, external = given.local_phones, ()
        else:
            numbers = self._json("GET", "phone_number/", None).get("data") or []
            internal = tuple(n["number"] for n in numbers if n.get("type") == "internal")
            external = tuple(n["number"] for n in numbers if n.get("type") == "external")
        if not internal:
            raise ConfigurationError(
                "the target has no Phone Number of type 'internal' (GET /phone_number/), "
                "which every SMS needs as local_phone; name one with --local-phone"
            )
        if given.lead_ids:
            leads, names = [], []
            for lead_id in given.lead_ids:
                lead = self._json("GET", f"lead/{lead_id}/")
                contacts = lead.get("contacts") or []
                if not contacts:
                    raise ConfigurationError(f"--lead-id {lead_id} has no contact; SMS need one")
                leads.append((lead_id, contacts[0]["id"]))
                names.append(str(contacts[0].get("name") or ""))
            first_name = (names[0].split() or [""])[0]
        else:
            leads = [self._lead(f"lead {i}", name) for i, name in enumerate(CONTACT_NAMES)]
            first_name = CONTACT_NAMES[0].split()[0]
        if given.template_id:
            template = self._json("GET", f"sms_template/{given.template_id}/")
            text = str(template.get("text") or "")
            rendered = re.sub(r"\{\{\s*contact\.first_name\s*\}\}", first_name, text)
            if "{{" in rendered:
                raise ConfigurationError(
                    f"--template-id {given.template_id} uses variables besides "
                    "contact.first_name; its rendering cannot be predicted"
                )
        else:
            template = self._json(
                "POST", "sms_template/", {"name": f"{TAG} {self.run_id} template",
                                          "text": TEMPLATE_TEXT},
            )  # fmt: skip
            self.created.append(f"sms_template/{template['id']}/")
            text = TEMPLATE_TEXT
            rendered = TEMPLATE_TEXT.replace("{{ contact.first_name }}", first_name)
        self.fixtures = Fixtures(
            organization_id=organization_id,
            user_id=me.get("id", ""),
            internal_phones=internal,
            external_phones=external,
            leads=tuple(leads),
            contact_first_name=first_name,
            template_id=template["id"],
            template_text=text,
            rendered_template=rendered,
            remote_phones=self.recipients,
        )
        return self.fixtures

    def _lead(self, label: str, contact_name: str) -> tuple[str, str]:
        """Create a lead named after this run (the tag `cleanup` looks for) with one contact."""
        lead = self._json("POST", "lead/", {
            "name": f"{TAG} {self.run_id} {label}",
            "contacts": [{"name": contact_name,
                          "phones": [{"type": "mobile", "phone": "+15555550100"}]}],
        })  # fmt: skip
        self.created.append(f"lead/{lead['id']}/")
        return lead["id"], lead["contacts"][0]["id"]

    def create_lead(self, label: str) -> str:
        """Create one more tagged lead (deleted at the end) and return its id."""
        return self._lead(label, CONTACT_NAMES[0])[0]

    def delete_sms(self, ids: Iterable[str]) -> None:
        for sms_id in ids:
            self.api.send("DELETE", f"activity/sms/{sms_id}/")

    def close(self) -> None:
        """Delete the fixtures this run created (in reverse order) and close the client."""
        for path in reversed(self.created):
            self.api.send("DELETE", path)
        self.created.clear()
        self.api.http.close()


def embedded_target(*, faults: Iterable[str] = ()) -> Target:
    """Return a target backed by the reference server, in-process, on a virtual clock."""
    from conformance.refserver import ReferenceServer
    from conformance.transport import SyncASGITransport

    clock = VirtualClock()
    # A rate limit on the virtual clock: every few hundred requests the engine meets a 429,
    # waits it out (instantly), and the rate-limit rules get judged.
    # Seeded ids: the same seed gives the same run (list pages order ties by id).
    server = ReferenceServer(
        clock=clock, faults=faults, rate_limit=EMBEDDED_RATE_LIMIT, id_seed=EMBEDDED_ID_SEED
    )
    org, other = server.orgs[0], server.orgs[1]
    http = httpx.Client(transport=SyncASGITransport(server.app), base_url=server.base_url + "/")
    credentials = Credentials(org.api_key, org.oauth_token, other.api_key)
    return Target(
        name="embedded reference server" + (f" (fault: {', '.join(faults)})" if faults else ""),
        api=ApiClient(http, credentials, clock, pace=False),
        clock=clock,
        timing=Timing(early=0.0, grace=0.0),
        embedded=True,
        allow_send=True,
        server=server,
    )


def remote_target(
    base_url: str,
    credentials: Credentials,
    *,
    allow_send: bool,
    timing: Timing | None = None,
    timeout: float = 10.0,
    max_requests: int | None = None,
    recipients: tuple[str, ...] = FICTIONAL_RECIPIENTS,
    given: GivenFixtures | None = None,
) -> Target:
    """Return a target at ``base_url`` (ending in ``/api/v1``) over real HTTP."""
    if not base_url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"--base-url must start with http:// or https://, got {base_url!r}"
        )
    if not base_url.rstrip("/").endswith("/api/v1"):
        raise ConfigurationError(f"--base-url must end in /api/v1, got {base_url!r}")
    bad = [number for number in recipients if not E164.match(number)]
    if bad or not recipients:
        raise ConfigurationError(f"--recipient must be E.164 numbers like +15555550100, got {bad}")
    if not (credentials.api_key or credentials.oauth_token):
        raise ConfigurationError("a remote target needs --api-key or --oauth-token")
    clock = SystemClock()
    http = httpx.Client(
        base_url=base_url.rstrip("/") + "/", timeout=timeout, follow_redirects=False
    )
    return Target(
        name=base_url,
        api=ApiClient(http, credentials, clock, max_requests=max_requests),
        clock=clock,
        timing=timing or Timing(early=2.0, grace=10.0),
        embedded=False,
        allow_send=allow_send,
        recipients=recipients,
        given=given or GivenFixtures(),
    )
