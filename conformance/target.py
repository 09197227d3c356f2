"""Targets: where a run sends its requests, and the fixtures it needs there.

:func:`embedded_target` starts the reference server in-process on a virtual clock;
:func:`remote_target` points at a base URL over real HTTP. Either way the fixtures (user,
internal numbers, leads with contacts, a template) come from the documented endpoints,
and what the run created is deleted by :meth:`Target.close`.

Nothing the target answers is trusted: every fixture answer is read field by field
(:mod:`conformance.fixture_answers`), every id goes into a path through
:func:`conformance.safety.item_path`, and a lead or template the run creates is read back
and must carry the run's own tagged name (``sms-conformance <run id> lead 0``) before the
run uses it, or deletes it. Leads named with ``--lead-id`` are read, never deleted.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import httpx

from conformance.client import (
    ApiClient,
    Credentials,
    MalformedAnswer,
    RunAborted,
    TargetUnreachable,
)
from conformance.clock import Clock, SystemClock, VirtualClock
from conformance.fixture_answers import read_lead, read_me, read_phones, read_template
from conformance.fixtures import Fixtures
from conformance.model import Timing
from conformance.safety import Guard, item_path
from conformance.vocabulary import E164

if TYPE_CHECKING:
    from conformance.loopback import Loopback

__all__ = [
    "ConfigurationError",
    "EndpointMissing",
    "GivenFixtures",
    "RUN_ID_LENGTH",
    "TAG",
    "Target",
    "TargetRejected",
    "embedded_target",
    "new_run_id",
    "remote_target",
    "tagged_name",
    "tagged_name_pattern",
]

TEMPLATE_TEXT = "Hi {{ contact.first_name }}, this is a conformance check."
PLAIN_TEMPLATE_TEXT = "Hi, this is a conformance check."  # when the contact's name is unknown
FIRST_NAME = re.compile(r"\{\{\s*contact\.first_name\s*\}\}")
LEAD_ENDPOINT = "GET /lead/{id}/"
# The rules a fixture the target could not give keeps from being judged.
TEMPLATE_RULES = ("sms/create/template-renders", "sms/create/template-and-text")
USER_RULES = ("sms/list/filter-user-id",)
CONTACT_NAMES = ("Ada Lovelace", "Grace Hopper")
# Numbers reserved for fiction (NANP 555-0100..0199): a sent SMS reaches nobody. With a real
# area code (201, New Jersey), not 555: a server that checks numbers with libphonenumber finds
# +1 555 555-0100 invalid and refuses every create (audit C21), while +1 201-555-0123 is
# libphonenumber's own example of a valid US number.
FICTIONAL_RECIPIENTS = ("+12015550123", "+12015550124")
TAG = "sms-conformance"  # every lead and template a run creates is named "<TAG> <run id> <label>"
RUN_ID_LENGTH = 12  # hex digits: 48 bits, so two runs (or a customer's lead) never share a tag
RUN_ID = f"[0-9a-f]{{{RUN_ID_LENGTH}}}"
LABEL = r"[a-z]+(?: [0-9]+)?"  # "lead 0", "template", "ledger", "bulk"
EMBEDDED_ID_SEED = 0
EMBEDDED_RATE_LIMIT = 15  # requests per (virtual) second and key
DEFAULT_MAX_SECONDS = 3600.0  # a remote run's time budget (--max-time): then inconclusive
OK_DELETE = frozenset({200, 202, 204, 404})  # 404: already gone, which is what was wanted
MISSING = frozenset({404, 405})  # a fixture endpoint answering these is one the target lacks
LEAD, TEMPLATE, SMS = "lead/", "sms_template/", "activity/sms/"


class _Named(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...


Answer = TypeVar("Answer", bound=_Named)


def new_run_id() -> str:
    """A fresh run id: ``RUN_ID_LENGTH`` lowercase hex digits."""
    return uuid.uuid4().hex[:RUN_ID_LENGTH]


def tagged_name(run_id: str, label: str) -> str:
    """The name of something the run creates: ``tagged_name("0123456789ab", "lead 0") ==
    "sms-conformance 0123456789ab lead 0"``; ``label`` must match ``LABEL``."""
    if not re.fullmatch(LABEL, label):
        raise ValueError(f"a fixture label is lowercase words and a number, got {label!r}")
    return f"{TAG} {run_id} {label}"


def tagged_name_pattern(run_id: str | None = None) -> re.Pattern[str]:
    """What a name must match *whole* (``fullmatch``) to be one a run gave: of run
    ``run_id``, or of any run (12 hex digits) when None. A customer's lead named
    ``sms-conformance customers list`` does not match."""
    run = re.escape(run_id) if run_id else RUN_ID
    return re.compile(rf"{re.escape(TAG)} (?P<run_id>{run}) (?P<label>{LABEL})")


class ConfigurationError(Exception):
    """The run cannot start as configured (a missing prerequisite, a bad option)."""


class TargetRejected(Exception):
    """The target refused the credentials or answered a fixture request unusably."""


class EndpointMissing(Exception):
    """A fixture endpoint answered 404 or 405: the target does not implement it."""

    def __init__(self, endpoint: str, status: int) -> None:
        super().__init__(f"{endpoint} answered {status}")
        self.endpoint, self.status = endpoint, status

    @property
    def needs(self) -> str:
        """``needs GET /me/ (the target answered 404)``, the start of a not-run reason."""
        return f"needs {self.endpoint} (the target answered {self.status})"


@dataclass(frozen=True, slots=True)
class GivenFixtures:
    """Fixtures named by the user, for targets that restrict the endpoints that make them:
    the run uses these instead of creating leads or a template or listing phone numbers,
    and does not delete them (the run does not own them)."""

    lead_ids: tuple[str, ...] = ()
    local_phones: tuple[str, ...] = ()
    template_id: str | None = None
    # For targets without GET /lead/{id}/ or GET /me/ (a mock of the SMS endpoints only):
    # the contact of each --lead-id, in order, and the user the API key acts as.
    contact_ids: tuple[str, ...] = ()
    user_id: str | None = None


@dataclass
class Target:
    """A server under test, its clock, credentials and the fixtures found on it.

    ``created`` holds the paths the run created (``lead/lead_abc/``), deleted by
    :meth:`close` in reverse order; ``leftovers`` the paths clean-up could not delete (the
    engine puts them in the report). ``closing`` is True while :meth:`close` runs;
    :meth:`abandon_cleanup` makes it stop (a third Ctrl-C)."""

    name: str
    api: ApiClient
    clock: Clock
    timing: Timing
    embedded: bool
    allow_send: bool
    run_id: str = field(default_factory=new_run_id)
    fixtures: Fixtures | None = None
    created: list[str] = field(default_factory=list)  # fixture paths to DELETE at the end
    server: object | None = None
    recipients: tuple[str, ...] = FICTIONAL_RECIPIENTS  # remote_phone values the run may use
    given: GivenFixtures = field(default_factory=lambda: GivenFixtures())
    leftovers: list[str] = field(default_factory=list)  # paths clean-up could not delete
    closing: bool = False
    # Fixture endpoints the target lacks (answered 404 or 405): "GET /me/" -> 404, and what
    # each fixture the run could not get keeps from being judged: rule id -> why.
    missing: dict[str, int] = field(default_factory=dict)
    lacking: dict[str, str] = field(default_factory=dict)
    # The embedded server served over real TCP (``embedded_target(over_http=True)``):
    # stopped by :meth:`close`. None in-process and on a remote target.
    loopback: Loopback | None = None
    _undeleted: list[str] = field(default_factory=list, repr=False)  # SMS DELETEs that failed
    _known: set[str] = field(default_factory=set, repr=False)  # lead and template ids met
    _abandoned: bool = field(default=False, repr=False)

    # What ``embedded`` grants, by meaning; ``embedded`` itself is kept for what is the
    # reference server this process runs as such (its ASGI app in-process, or with
    # ``loopback`` the same app over a loopback socket: nothing else between it and the run).

    @property
    def clock_can_jump(self) -> bool:
        """The run moves the target's clock itself (a virtual one): a wait is instant, an
        example may start at any time of day, every due time may be let pass at once."""
        return self.embedded

    @property
    def data_is_private(self) -> bool:
        """The target holds only what this run made: lists need no scoping to the run's
        leads, no SMS needs pinning to them, no write can reach someone else's data."""
        return self.embedded

    @property
    def sends_nowhere(self) -> bool:
        """An SMS the target sends reaches no phone: any recipient may be addressed and any
        phase may send, whatever ``allow_send`` says."""
        return self.embedded

    @property
    def has_second_org(self) -> bool:
        return bool(self.api.credentials.second_api_key)

    @property
    def has_oauth(self) -> bool:
        return bool(self.api.credentials.oauth_token)

    def _json(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        endpoint: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> object:
        """The body of a 2xx answer to a fixture request (not yet checked: see the readers).

        With ``endpoint`` (``GET /lead/{id}/``), a 404 or 405 means the target lacks that
        endpoint (a mock of the SMS endpoints only): noted in ``missing`` and raised as
        :class:`EndpointMissing`. A 401/403 or any other failure ends the run as ever."""
        exchange, _ = self.api.send(method, path, json_body=body, params=params)
        response = exchange.response
        if response is None:
            raise TargetUnreachable(f"{method} {path}: {exchange.error}")
        if response.status_code in (401, 403):
            raise TargetRejected(
                f"the target refused the credentials ({method} {path} answered "
                f"{response.status_code})"
            )
        if endpoint is not None and response.status_code in MISSING:
            self.missing[endpoint] = response.status_code
            raise EndpointMissing(endpoint, response.status_code)
        if not 200 <= response.status_code < 300:
            raise TargetRejected(
                f"{method} {path} answered {response.status_code}; cannot set up fixtures"
            )
        return response.body

    def discover(self) -> Fixtures:
        """Find or create the fixtures through the documented endpoints.

        A fixture endpoint the target lacks (it answers 404 or 405: a mock of the SMS
        endpoints only) does not end the run: what the user named stands in for it
        (``--local-phone``, ``--lead-id`` with ``--contact-id``, ``--template-id``,
        ``--user-id``), and the rules that cannot be judged without it are noted in
        ``lacking`` (reported not-run, naming the endpoint). Only what no SMS can do
        without, an internal number and a lead with a contact, raises
        :class:`ConfigurationError` naming the option to give.

        Raises :class:`MalformedAnswer` (naming the request) for an answer the run cannot
        use, :class:`ConfigurationError` when a prerequisite is missing."""
        given = self.given
        organization_id: str | None = None
        user_id = given.user_id
        try:
            organization_id, me = read_me(self._json("GET", "me/", endpoint="GET /me/"))
            user_id = user_id or me
        except EndpointMissing as missing:
            if user_id is None:
                self.lacks(
                    USER_RULES, f"{missing.needs} to learn the API key's user: give --user-id"
                )
        internal: tuple[str, ...] = given.local_phones
        external: tuple[str, ...] = ()
        if not internal:
            try:
                answer = self._json("GET", "phone_number/", endpoint="GET /phone_number/")
            except EndpointMissing as missing:
                raise ConfigurationError(
                    f"{missing}, so the run cannot find the internal number every SMS needs as "
                    "local_phone; name one with --local-phone"
                ) from None
            internal, external = read_phones(answer)
        else:
            self.lacks(
                ("sms/create/local-phone-logging",),
                "needs a Phone Number of type external to log an SMS from, which only "
                "GET /phone_number/ lists (not asked: --local-phone was given)",
            )
        if not internal:
            raise ConfigurationError(
                "the target has no Phone Number of type 'internal' (GET /phone_number/), "
                "which every SMS needs as local_phone; name one with --local-phone"
            )
        leads = self._leads()
        if self.missing:
            self._check_sms_endpoints(leads[0][0])
        first_name = (leads[0][2].split() or [""])[0] if leads[0][2] is not None else None
        template_id, text, rendered = self._template(first_name)
        self.fixtures = Fixtures(
            organization_id=organization_id,
            user_id=user_id,
            internal_phones=internal,
            external_phones=external,
            leads=tuple((lead_id, contact_id) for lead_id, contact_id, _ in leads),
            contact_first_name=first_name,
            template_id=template_id,
            template_text=text,
            rendered_template=rendered,
            remote_phones=self.recipients,
        )
        return self.fixtures

    def _check_sms_endpoints(self, lead_id: str) -> None:
        """A target that lacks fixture endpoints must at least serve the SMS list: one that
        answers 404 there too is no SMS API (a wrong --base-url, most likely), and its run
        would only report every rule broken."""
        try:
            self._json(
                "GET",
                SMS,
                endpoint="GET /activity/sms/",
                params={"lead_id": lead_id, "_limit": "1"},
            )
        except EndpointMissing as missing:
            lacked = ", ".join(e for e in self.missing if e != missing.endpoint)
            raise ConfigurationError(
                f"GET {SMS} answered {missing.status}, as {lacked} did: the target serves no "
                "SMS endpoints there; check --base-url (it must end in /api/v1)"
            ) from None

    def _leads(self) -> list[tuple[str, str, str | None]]:
        """The run's leads: (id, contact id, contact name or None when unknown)."""
        given = self.given
        if len(given.contact_ids) > len(given.lead_ids):
            raise ConfigurationError(
                "--contact-id names the contact of the --lead-id given in the same place; "
                f"got {len(given.contact_ids)} --contact-id for {len(given.lead_ids)} --lead-id"
            )
        if given.lead_ids:
            contacts = given.contact_ids + (None,) * (len(given.lead_ids) - len(given.contact_ids))
            pairs = zip(given.lead_ids, contacts, strict=True)
            return [self._given_lead(lead, contact) for lead, contact in pairs]
        try:
            return [(*self._lead(f"lead {i}", name), name) for i, name in enumerate(CONTACT_NAMES)]
        except EndpointMissing as missing:
            raise ConfigurationError(
                f"{missing}, so the run cannot create the lead with a contact its SMS are "
                "filed on; name one with --lead-id (and its contact with --contact-id)"
            ) from None

    def _template(self, first_name: str | None) -> tuple[str | None, str | None, str | None]:
        """The template's id, text and rendering for the first lead's contact; three Nones
        (and the template rules noted in ``lacking``) when the target lacks what makes or
        reads one, or the rendering cannot be predicted."""
        given = self.given
        if given.template_id:
            try:
                template_id, text = self._given_template(given.template_id)
            except EndpointMissing as missing:
                self.lacks(
                    TEMPLATE_RULES,
                    f"{missing.needs} to read the text of --template-id {given.template_id}",
                )
                return None, None, None
            if first_name is None and FIRST_NAME.search(text):
                self.lacks(TEMPLATE_RULES, self._unknown_first_name())
                return None, None, None
            rendered = FIRST_NAME.sub(first_name or "", text)
            if "{{" in rendered:
                raise ConfigurationError(
                    f"--template-id {given.template_id} uses variables besides "
                    "contact.first_name; its rendering cannot be predicted"
                )
            return template_id, text, rendered
        # Without the contact's name (no GET /lead/{id}/), a template without variables.
        text = TEMPLATE_TEXT if first_name is not None else PLAIN_TEMPLATE_TEXT
        try:
            created = self._create(
                TEMPLATE,
                "template",
                {"text": text},
                lambda a, r: read_template(a, r),
                endpoint="POST /sms_template/",
            )
        except EndpointMissing as missing:
            self.lacks(
                TEMPLATE_RULES,
                f"{missing.needs} to create a template: give --template-id of one it has",
            )
            return None, None, None
        return created.id, text, FIRST_NAME.sub(first_name or "", text)

    def _unknown_first_name(self) -> str:
        status = self.missing.get(LEAD_ENDPOINT, 404)
        return (
            f"needs {LEAD_ENDPOINT} (the target answered {status}) to learn the first name of "
            "the contact the template renders: give a --template-id without variables"
        )

    def _given_lead(self, lead_id: str, contact_id: str | None) -> tuple[str, str, str | None]:
        """Read a ``--lead-id`` lead: (id, its contact's id, that contact's name). Never
        owned. The contact is the ``--contact-id`` given with it, else the lead's first;
        on a target without ``GET /lead/{id}/`` the contact must be given (its name is then
        unknown)."""
        path = _given_path(LEAD, lead_id, "--lead-id")
        if contact_id is not None and not contact_id.strip():
            raise ConfigurationError("--contact-id must not be empty")
        try:
            answer = self._json("GET", path, endpoint=LEAD_ENDPOINT)
        except EndpointMissing as missing:
            if contact_id is None:
                raise ConfigurationError(
                    f"GET {path} answered {missing.status} (the target lacks {LEAD_ENDPOINT}, "
                    f"or the lead), so the run cannot find the lead's contact; name it with "
                    f"--contact-id (or check --lead-id {lead_id})"
                ) from None
            self._known.add(lead_id)
            return lead_id, contact_id, None
        if contact_id is not None:
            contacts = answer.get("contacts") if isinstance(answer, dict) else None
            names = [
                c.get("name")
                for c in (contacts if isinstance(contacts, list) else [])
                if isinstance(c, dict) and c.get("id") == contact_id
            ]
            if not names:
                raise ConfigurationError(
                    f"--contact-id {contact_id} is not a contact of --lead-id {lead_id} "
                    f"(GET {path})"
                )
            self._known.add(lead_id)
            return lead_id, contact_id, names[0] if isinstance(names[0], str) else ""
        if isinstance(answer, dict) and not answer.get("contacts"):
            raise ConfigurationError(f"--lead-id {lead_id} has no contact; SMS need one")
        lead = read_lead(answer, f"GET {path}")
        if lead.id != lead_id:
            raise MalformedAnswer(f"GET {path} answered another lead ({lead.id!r})")
        self._known.add(lead_id)
        return lead.id, lead.contact_id, lead.contact_name

    def _given_template(self, template_id: str) -> tuple[str, str]:
        path = _given_path(TEMPLATE, template_id, "--template-id")
        answer = self._json("GET", path, endpoint="GET /sms_template/{id}/")
        template = read_template(answer, f"GET {path}")
        if template.id != template_id:
            raise MalformedAnswer(f"GET {path} answered another template ({template.id!r})")
        self._known.add(template_id)
        return template.id, template.text

    def _lead(self, label: str, contact_name: str) -> tuple[str, str]:
        """Create a lead named after this run (the tag `cleanup` looks for) with one contact;
        return its id and its contact's id."""
        contacts = [
            {"name": contact_name, "phones": [{"type": "mobile", "phone": FICTIONAL_RECIPIENTS[0]}]}
        ]
        lead = self._create(LEAD, label, {"contacts": contacts}, read_lead, endpoint="POST /lead/")
        return lead.id, lead.contact_id

    def _create(
        self,
        collection: str,
        label: str,
        body: dict[str, object],
        read: Callable[[object, str], Answer],
        endpoint: str | None = None,
    ) -> Answer:
        """POST a tagged lead or template and make sure what came back is the run's own.

        The answer's id must be new to the run, and (on a remote target) reading that id
        back must show the run's tagged name: a server answering with another lead's id
        must not get that lead's SMS created, then deleted. Only then is the path noted
        for deletion; otherwise :class:`MalformedAnswer`."""
        name = tagged_name(self.run_id, label)
        request = f"POST {collection}"
        try:
            answer = self._json("POST", collection, {"name": name, **body}, endpoint=endpoint)
            created = read(answer, request)
        except MalformedAnswer as error:
            # The create may well have happened: its answer just gave no usable id. Say so,
            # by name, for `cleanup --run-id`, which finds it that way.
            self.leftovers.append(f"{collection} named {name!r} (its create answered no usable id)")
            raise MalformedAnswer(
                f"{error}; what it created may be left: `cleanup --run-id {self.run_id}` finds "
                "it by name"
            ) from None
        try:
            self._check_created(collection, created, name, read)
        except (MalformedAnswer, TargetRejected) as error:
            if item_path(collection, created.id) not in self.created:
                self._disown(collection, created.id)
            raise MalformedAnswer(
                f"{request}: {error}; the run will not use or delete it (what it "
                f"created may be left: `cleanup --run-id {self.run_id}` finds it by name)"
            ) from None
        self._known.add(created.id)
        self.created.append(item_path(collection, created.id))
        return created

    def _check_created(
        self, collection: str, created: _Named, name: str, read: Callable[[object, str], _Named]
    ) -> None:
        """Raise :class:`MalformedAnswer` saying why ``created`` is not what the run made."""
        if created.id in self._known:
            raise MalformedAnswer(f"it answered the id {created.id!r} of something the run had")
        if created.name != name:
            raise MalformedAnswer(f"it answered the name {created.name!r}, not {name!r}")
        if self.embedded:
            return  # the reference server this process runs: nothing between it and the run
        path = item_path(collection, created.id)
        again = read(self._json("GET", path), f"GET {path}")
        if again.id != created.id or again.name != name:
            raise MalformedAnswer(
                f"it answered {created.id!r}, which GET {path} shows as {again.id!r} named "
                f"{again.name!r}"
            )

    def _disown(self, collection: str, item_id: str) -> None:
        """Forget an id the guard noted from a create answer the run does not trust."""
        disown = getattr(self.api.guard, "disown", None)
        if disown is not None:
            disown(collection, item_id)

    def create_lead(self, label: str) -> str | None:
        """Create one more tagged lead (deleted at the end) and return its id; None when the
        target lacks ``POST /lead/`` (see ``missing``: the caller notes what it cannot
        judge, with :meth:`lacks`)."""
        if "POST /lead/" in self.missing:
            return None
        try:
            return self._lead(label, CONTACT_NAMES[0])[0]
        except EndpointMissing:
            return None

    def lacks(self, rules: Iterable[str], why: str) -> None:
        """Note that ``rules`` cannot be judged on this target, and why (their not-run
        reason in the report: name the endpoint and what the user can give instead)."""
        for rule in rules:
            self.lacking.setdefault(rule, why)

    def delete_sms(self, ids: Iterable[str]) -> list[str]:
        """Delete SMS the run created; return the ids not confirmed deleted. A DELETE that
        fails is tried again by :meth:`close` (and, failing again, listed in ``leftovers``)."""
        kept: list[str] = []
        for sms_id in ids:
            try:
                path = item_path(SMS, sms_id)
            except MalformedAnswer:
                kept.append(sms_id)
                continue  # never usable in a path; it goes with its lead
            try:
                problem = self._delete(path)
            except TargetUnreachable:
                self._undeleted.append(path)
                raise
            if problem is not None:
                self._undeleted.append(path)
                kept.append(sms_id)
        return kept

    def _delete(self, path: str) -> str | None:
        """DELETE ``path``; None when it is gone, else what went wrong."""
        exchange, _ = self.api.send("DELETE", path)
        if exchange.response is None:
            return exchange.error or "no answer"
        if exchange.response.status_code not in OK_DELETE:
            return f"answered {exchange.response.status_code}"
        return None

    def abandon_cleanup(self) -> None:
        """Stop :meth:`close` before its next DELETE (what is not deleted is listed)."""
        self._abandoned = True

    def close(self) -> None:
        """Delete what this run created (SMS whose DELETE failed first, then fixtures in
        reverse order) and close the client. Never raises: a DELETE that fails does not
        stop the others, and every path not deleted ends up in ``leftovers``. A
        ``KeyboardInterrupt`` (a third Ctrl-C) abandons the rest, which is listed too."""
        pending = [*dict.fromkeys(self._undeleted), *reversed(self.created)]
        self._undeleted.clear()
        self.created.clear()
        self.closing = True
        try:
            for index, path in enumerate(pending):
                if self._abandoned:
                    self.leftovers.extend(pending[index:])
                    break
                try:
                    problem = self._delete(path)
                except KeyboardInterrupt:
                    self._abandoned = True
                    self.leftovers.extend(pending[index:])
                    break
                except TargetUnreachable:
                    self.leftovers.extend(pending[index:])  # the target is gone; stop asking
                    break
                except (Exception, RunAborted) as error:  # noqa: BLE001 - one DELETE, not the rest
                    problem = f"{type(error).__name__}: {error}"
                if problem is not None:
                    self.leftovers.append(path)
        finally:
            self.closing = False
            self.api.http.close()
            if self.loopback is not None:
                with contextlib.suppress(RuntimeError):  # never raises; a daemon thread
                    self.loopback.close()


def _authority(url: str) -> str:
    """The ``user@host:port`` part of a URL (with or without a scheme)."""
    match = re.match(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?://)?([^/?#]*)", url.strip())
    return match.group(1) if match else ""


def _given_path(collection: str, item_id: str, option: str) -> str:
    try:
        return item_path(collection, item_id, what=option)
    except MalformedAnswer as error:
        raise ConfigurationError(f"{option} {item_id!r} cannot be a URL path segment") from error


def embedded_target(
    *,
    faults: Iterable[str] = (),
    readings: Mapping[str, str] | None = None,
    transient_share: float = 0.0,
    max_requests: int | None = None,
    max_seconds: float | None = None,
    given: GivenFixtures | None = None,
    sms_only: bool = False,
    over_http: bool = False,
) -> Target:
    """Return a target backed by the reference server, in-process, on a virtual clock;
    ``faults`` switches on bugs, ``readings`` picks how it reads the docs' open points,
    ``transient_share`` of the SMS requests meet a 503 before or a 504 after being handled
    (seeded: the same run meets the same noise), and ``max_requests`` is the run's request
    budget (``--max-requests``) and ``max_seconds`` its time budget (``--max-time``, on the
    wall clock: the virtual one jumps), as on a remote target. ``sms_only`` puts the
    server behind :class:`~conformance.refserver.sms_only.SmsOnly` (404 outside
    ``/activity/sms/``, as a mock of the SMS endpoints); ``given`` are the fixtures named
    for it (``--lead-id``, ...; the tests know the server's ids).

    With ``over_http`` the same server, on the same virtual clock, is served by uvicorn on
    a loopback port (:class:`~conformance.loopback.Loopback`) and the run's requests go
    over real TCP; everything else is as in-process (the clock jumps, the data is the
    run's, sends reach nobody). :meth:`Target.close` stops the server."""
    from conformance.refserver import ReferenceServer
    from conformance.transport import SyncASGITransport

    clock = VirtualClock()
    # A rate limit on the virtual clock: every few hundred requests the engine meets a 429,
    # waits it out (instantly), and the rate-limit rules get judged.
    # Seeded ids: the same seed gives the same run (list pages order ties by id).
    server = ReferenceServer(
        clock=clock,
        faults=faults,
        rate_limit=EMBEDDED_RATE_LIMIT,
        id_seed=EMBEDDED_ID_SEED,
        readings=readings,
    )
    label = [f"fault: {', '.join(faults)}"] if faults else []
    label += [f"reading {p}={a}" for p, a in sorted(server.readings.chosen.items())]
    org, other = server.orgs[0], server.orgs[1]
    app: Any = server.app
    if transient_share:
        from conformance.refserver.noise import Noise

        app = Noise(app, transient_share=transient_share, seed=EMBEDDED_ID_SEED)
        label.append(f"{transient_share:.0%} transient noise")
    if sms_only:
        from conformance.refserver.sms_only import SmsOnly

        app = SmsOnly(app)
        label.append("SMS endpoints only")
    loopback = None
    if over_http:
        from conformance.loopback import Loopback

        loopback = Loopback(app)
        http = httpx.Client(base_url=loopback.base_url + "/api/v1/", timeout=30.0)
        label.insert(0, "over loopback HTTP")
    else:
        http = httpx.Client(transport=SyncASGITransport(app), base_url=server.base_url + "/")
    credentials = Credentials(org.api_key, org.oauth_token, other.api_key)
    return Target(
        name="embedded reference server" + (f" ({'; '.join(label)})" if label else ""),
        api=ApiClient(
            http,
            credentials,
            clock,
            pace=False,
            guard=Guard(),
            deadline=None,
            max_rate_limit_wait_total=None,
            max_requests=max_requests,
            max_seconds=max_seconds,
            budget_clock=SystemClock(),
        ),
        clock=clock,
        timing=Timing(early=0.0, grace=0.0),
        embedded=True,
        allow_send=True,
        server=server,
        given=given or GivenFixtures(),
        loopback=loopback,
    )


def remote_target(
    base_url: str,
    credentials: Credentials,
    *,
    allow_send: bool,
    timing: Timing | None = None,
    timeout: float = 10.0,
    max_requests: int | None = None,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
    recipients: tuple[str, ...] = FICTIONAL_RECIPIENTS,
    given: GivenFixtures | None = None,
) -> Target:
    """Return a target at ``base_url`` (ending in ``/api/v1``) over real HTTP.

    A base URL carrying credentials (``http://KEY@host/api/v1``) is refused without
    repeating it: the key would be printed and stored, and httpx would send it instead of
    every Authorization header the run chooses (no auth, a wrong key, a second org)."""
    if "@" in _authority(base_url):
        raise ConfigurationError(
            "--base-url must not carry credentials before the host (user@host); "
            "give the key with --api-key or CLOSE_API_KEY instead"
        )
    if not base_url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"--base-url must start with http:// or https://, got {base_url!r}"
        )
    if not base_url.rstrip("/").endswith("/api/v1"):
        raise ConfigurationError(f"--base-url must end in /api/v1, got {base_url!r}")
    bad = [number for number in recipients if not E164.match(number)]
    if bad or not recipients:
        raise ConfigurationError(f"--recipient must be E.164 numbers like +12015550123, got {bad}")
    if not (credentials.api_key or credentials.oauth_token):
        raise ConfigurationError("a remote target needs --api-key or --oauth-token")
    clock = SystemClock()
    http = httpx.Client(
        base_url=base_url.rstrip("/") + "/", timeout=timeout, follow_redirects=False
    )
    return Target(
        name=base_url,
        api=ApiClient(
            http,
            credentials,
            clock,
            max_requests=max_requests,
            max_seconds=max_seconds,
            guard=Guard(recipients=recipients, live=True, may_send=allow_send),
        ),
        clock=clock,
        timing=timing or Timing(early=2.0, grace=10.0),
        embedded=False,
        allow_send=allow_send,
        recipients=recipients,
        given=given or GivenFixtures(),
    )
