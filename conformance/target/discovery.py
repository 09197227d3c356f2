"""Finding or creating a run's fixtures on a target through the documented endpoints."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol, TypeVar

from conformance.client import (
    ApiClient,
    MalformedAnswer,
    TargetUnreachable,
)
from conformance.fixture_answers import read_lead, read_me, read_phones, read_template
from conformance.fixtures import Fixtures
from conformance.safety import item_path
from conformance.target.errors import ConfigurationError, EndpointMissing, TargetRejected
from conformance.target.foreign import read_foreign
from conformance.target.naming import (
    CONTACT_NAMES,
    FICTIONAL_RECIPIENTS,
    FIRST_NAME,
    LEAD,
    LEAD_ENDPOINT,
    MISSING,
    PLAIN_TEMPLATE_TEXT,
    SMS,
    TEMPLATE,
    TEMPLATE_RULES,
    TEMPLATE_TEXT,
    USER_RULES,
    tagged_name,
)

if TYPE_CHECKING:
    from conformance.target.core import GivenFixtures


class _Named(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...


Answer = TypeVar("Answer", bound=_Named)


class FixtureDiscovery:
    """The fixture half of :class:`~conformance.target.core.Target`: finding or creating
    the user, internal numbers, leads with contacts and a template through the documented
    endpoints, each answer read field by field before it is used."""

    api: ApiClient
    run_id: str
    embedded: bool
    fixtures: Fixtures | None
    created: list[str]
    recipients: tuple[str, ...]
    given: GivenFixtures
    leftovers: list[str]
    missing: dict[str, int]
    lacking: dict[str, str]
    _known: set[str]

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
            foreign=read_foreign(self.api),
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


def _given_path(collection: str, item_id: str, option: str) -> str:
    try:
        return item_path(collection, item_id, what=option)
    except MalformedAnswer as error:
        raise ConfigurationError(f"{option} {item_id!r} cannot be a URL path segment") from error
