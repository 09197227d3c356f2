"""Faults: realistic bugs the reference server can be started with, one per name.

The suite proves it catches a bug by running against a server with that bug switched on.
Code checks a fault at the exact place the bug would live, e.g.
``if "send-in-60-accepted" in faults:``, where ``faults`` is a :class:`Faults`: asking it
about a name no :class:`Fault` registers raises, so a typo at a check site fails at once
instead of never switching its bug on. Adding a fault is one :class:`Fault` line here plus
that check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from conformance.refserver.race_faults import RACE_FAULTS

__all__ = ["FAULTS", "UNBROKEN", "Fault", "check_faults"]


@dataclass(frozen=True, slots=True)
class Fault:
    """One bug: its ``name``, the catalogue ``rule`` id it breaks, what it does, and
    ``minimal_steps``, the length in state-machine steps of the shortest example that shows
    it (a check at the end of an example, after every due time, counts no step; every
    example starts with a valid create, so a bug only an invalid request shows needs two).
    ``masked_by`` names the open points under whose other readings the bug is conforming
    behaviour (the self-test then keeps those points at their defaults for this fault)."""

    name: str
    rule: str
    description: str
    minimal_steps: int
    masked_by: tuple[str, ...] = ()


_ALL = (
    # -- editing and transitions ------------------------------------------------------------
    Fault("edit-sent-accepted", "sms/update/drafts-only",
          "a PUT editing the text of a sent SMS is accepted and stored", 2),
    Fault("edit-inbox-accepted", "sms/update/drafts-only",
          "a PUT editing a received (inbox) SMS is accepted and stored", 2),
    Fault("edit-scheduled-text-accepted", "sms/update/drafts-only",
          "a PUT changing the text of a scheduled SMS (without cancelling it) is accepted", 2),
    Fault("cancel-refused", "sms/update/cancel-outbox",
          "setting an unsent outbox SMS back to draft answers 400", 2),
    Fault("cancel-scheduled-refused", "sms/update/cancel-scheduled",
          "setting a scheduled SMS back to draft answers 400", 2),
    Fault("cancel-sent-accepted", "sms/update/cancel-refused-after-send",
          "setting a sent SMS back to draft is accepted: the SMS becomes a draft again", 2),
    Fault("draft-edit-refused", "sms/update/draft-edit",
          "a PUT editing a draft answers 400, as if the draft were not editable", 2),
    Fault("schedule-draft-refused", "sms/update/draft-to-scheduled",
          "a PUT scheduling a draft (status scheduled with a date) answers 400", 2),
    Fault("send-draft-refused", "sms/update/draft-to-outbox",
          "a PUT sending a draft (status outbox) answers 400", 2),
    Fault("schedule-without-date-accepted", "sms/update/scheduled-requires-date-scheduled",
          "a PUT setting a draft to scheduled without any date_scheduled is accepted", 2),
    Fault("update-not-stored", "roundtrip/update-readback",
          "a PUT editing a draft answers with the edits, but they are never saved", 3),
    Fault("put-clears-lead", "sms/update/partial",
          "a PUT that does not mention lead_id clears lead_id and contact_id", 2),
    # -- create validation ------------------------------------------------------------------
    Fault("send-in-60-accepted", "sms/create/send-in-below-60",
          "send_in = 60 is accepted on create", 2),
    Fault("send-in-59-refused", "sms/create/send-in-accepted",
          "send_in = 59 is refused on create (the bound is checked as send_in < 59)", 1),
    Fault("send-in-non-numeric-ignored", "sms/create/send-in-invalid-type",
          "a send_in that is no number (a word, a list, an object) is ignored, not refused", 2),
    Fault("send-in-string-unchecked", "sms/create/send-in-below-60",
          "a send_in that spells a number (\"75\") is read as seconds without the check "
          "that it is under 60", 2),
    Fault("scheduled-without-date-accepted", "sms/create/scheduled-requires-date-scheduled",
          "a scheduled create without date_scheduled (or with null) is accepted", 2),
    Fault("external-local-phone-accepted", "sms/create/local-phone-internal",
          "an external Phone Number of the organisation is accepted as local_phone", 2),
    Fault("unknown-local-phone-accepted", "sms/create/local-phone-internal",
          "any E.164 number is accepted as local_phone, even one the organisation lacks", 2),
    Fault("caller-id-picks-external", "sms/create/local-phone-required",
          "a send without local_phone is accepted and Caller ID picks the organisation's "
          "external number, which cannot send SMS", 2),
    Fault("malformed-phone-accepted", "sms/create/phone-malformed",
          "remote_phone is stored as given, even when it is not a phone number", 2),
    Fault("unknown-template-ignored", "sms/create/template-unknown-rejected",
          "an unknown template_id is silently ignored instead of refused", 2),
    Fault("unknown-status-draft", "sms/create/status-unknown-rejected",
          "a create with a status outside the enum makes a draft instead of answering 400", 2),
    Fault("missing-status-draft", "sms/create/status-required",
          "a create without status makes a draft instead of answering 400", 2),
    Fault("attachment-type-unchecked", "sms/create/attachment-invalid",
          "an attachment whose content_type is outside the documented enum is accepted", 2),
    Fault("inbox-stored-as-sent", "sms/create/status-inbox",
          "an SMS logged as received (inbox) is stored as sent", 1),
    Fault("draft-create-refused", "sms/create/status-draft",
          "creating a draft answers 400 on status", 1),
    Fault("scheduled-stored-as-draft", "sms/create/status-scheduled",
          "a scheduled create is stored as a draft: it will never be sent", 1),
    Fault("outbox-create-refused", "sms/create/status-outbox",
          "creating an outbox SMS (send now) answers 400 on status", 1),
    Fault("sent-stored-as-inbox", "sms/create/status-sent",
          "an SMS logged as sent is stored as received (inbox)", 1),
    Fault("put-unknown-id-400", "sms/update/unknown-id-404",
          "a PUT on an id that does not exist answers 400 instead of 404", 2),
    Fault("get-unknown-id-400", "sms/get/unknown-id-404",
          "a GET of an id that does not exist answers 400 instead of 404", 2),
    Fault("get-wraps-object", "sms/get/returns-object",
          "GET of one SMS answers {\"data\": <sms>} instead of the SMS itself", 2),
    Fault("get-answers-203", "protocol/documented-status-code",
          "GET of one SMS answers 203 instead of the documented 200", 2),
    Fault("has-more-as-string", "sms/list/shape",
          "lists answer has_more as the string \"false\"/\"true\" instead of a boolean", 2),
    Fault("create-answers-201", "sms/create/answers-200",
          "a successful create answers 201 Created instead of 200", 1),
    # -- templates and defaults -------------------------------------------------------------
    Fault("template-ignored", "sms/create/template-renders",
          "a create with template_id stores the id but leaves text null", 1),
    Fault("template-unrendered", "sms/create/template-renders",
          "a create with template_id stores the raw template, {{ contact.first_name }} and all",
          1),
    Fault("inbox-direction-outbound", "sms/create/direction-default",
          "a received (inbox) SMS created without direction is stored as outbound", 1),
    Fault("direction-swapped", "sms/create/direction-explicit",
          "an explicit direction on create is stored swapped, as seen from the contact's side "
          "(inbound as outbound and back)", 1,
          # Where the status decides the direction, an explicit one is ignored: nothing to swap.
          masked_by=("direction-override",)),
    # -- time -------------------------------------------------------------------------------
    Fault("outbox-never-sent", "sms/send/outbox-sent",
          "the sender skips outbox SMS: they stay in outbox forever", 1),
    Fault("send-in-ignored", "sms/send/send-in-delays",
          "send_in is ignored: an outbox SMS is sent at once, with no undo window", 2),
    Fault("scheduled-sent-at-creation", "sms/send/scheduled-not-early",
          "a scheduled SMS is sent as soon as it is created, not at date_scheduled", 2),
    Fault("scheduled-never-sent", "sms/send/scheduled-sent",
          "scheduled SMS are never queued for sending: they stay scheduled forever", 1),
    Fault("cancelled-still-sent", "sms/send/cancelled-never-sent",
          "a cancel answers 200 and shows draft, but the SMS is still sent at its due time", 2),
    Fault("cancel-race-still-sent", "sms/send/cancelled-never-sent",
          "a cancel within 5 s of the due time answers 200 and shows draft, but the SMS is "
          "sent anyway", 2),
    Fault("outbox-sent-early", "sms/send/send-in-delays",
          "an outbox SMS is sent 2 s before its send_in has elapsed", 1),
    Fault("scheduled-sent-early", "sms/send/scheduled-not-early",
          "a scheduled SMS is sent 2 s before its date_scheduled", 1),
    Fault("rescheduled-sent-at-first-due", "sms/send/scheduled-not-early",
          "a cancel leaves the SMS on the sender's queue (skipped while a draft): scheduled "
          "or sent again before its first due time, it goes out at that first time", 3),
    Fault("put-scheduled-never-sent", "sms/send/scheduled-sent",
          "a draft scheduled by PUT (status scheduled, date_scheduled) is never queued: it "
          "stays scheduled forever (a scheduled create is sent)", 2),
    # -- lists ------------------------------------------------------------------------------
    Fault("skip-off-by-one", "sms/list/pagination",
          "_skip=n skips n+1 items when n > 0", 3),
    Fault("lead-filter-ignored", "sms/list/filter-lead-id",
          "the lead_id filter is ignored: every SMS of the organisation is listed", 2),
    Fault("user-filter-wrong-column", "sms/list/filter-user-id",
          "the user_id filter is compared with the contact of each SMS, so it matches nothing",
          2),
    Fault("contact-filter-ignored", "sms/list/filter-contact-id",
          "the contact_id filter is ignored", 2),
    Fault("id-in-filter-ignored", "sms/list/filter-id-in",
          "the id__in filter is ignored", 3),
    Fault("date-created-gt-inclusive", "sms/list/filter-date-created",
          "date_created__gt behaves as __gte: an SMS created exactly at the bound is listed", 2),
    Fault("date-created-lt-inclusive", "sms/list/filter-date-created",
          "date_created__lt behaves as __lte: an SMS created exactly at the bound is listed", 2),
    Fault("activity-at-gt-inclusive", "sms/list/filter-activity-at",
          "activity_at__gt behaves as __gte: an SMS exactly at the bound is listed", 2),
    Fault("tz-offset-ignored", "sms/list/tz-offset",
          "date filters without an offset are read as UTC whatever x-tz-offset says", 2),
    Fault("bare-date-rejected", "sms/list/filter-bare-date",
          "a date filter given as a bare date (2026-01-01) answers 400", 2),
    Fault("bare-date-as-utc", "sms/list/filter-bare-date",
          "a bare date filter is read as UTC midnight, ignoring x-tz-offset", 2),
    Fault("limit-ignored", "sms/list/pagination",
          "_limit is validated but ignored: every page holds up to 100 SMS", 3),
    Fault("has-more-always-false", "sms/list/has-more",
          "has_more is always false, even when more SMS follow", 3),
    Fault("has-more-on-full-page", "sms/list/has-more",
          "has_more is true on a last page that happens to be full", 2),
    Fault("later-pages-oldest-first", "sms/list/pagination",
          "pages after the first are sorted oldest first, so a walk repeats and misses SMS", 3),
    Fault("default-limit-unbounded", "sms/list/limit-default",
          "a list without _limit returns every matching SMS, not at most 100", 102),
    Fault("fields-ignored-on-get", "sms/get/fields",
          "_fields is ignored on GET of one SMS: every field is returned", 2),
    # -- round-trip fidelity ----------------------------------------------------------------
    Fault("emoji-dropped", "roundtrip/text",
          "characters outside the Basic Multilingual Plane (most emoji) are dropped from text",
          1),
    Fault("text-nfkc-normalised", "roundtrip/text",
          "text is stored NFKC-normalised: compatibility forms are folded (𝔘𝔫𝔦 comes back as "
          "Uni, a full-width ， as a comma)", 1),
    Fault("text-truncated-160", "roundtrip/text",
          "text is cut to one 160-character SMS segment", 1),
    Fault("attachments-dropped", "sms/create/attachments",
          "attachments given on create are accepted but not stored", 1),
    Fault("attachment-media-id-missing", "sms/create/attachments",
          "attachments read back without a media_id", 1),
    Fault("attachment-url-missing", "sms/create/attachments",
          "attachments read back with url null (as if the media were only fetched when sent)", 1),
    Fault("remote-phone-reformatted", "roundtrip/create-readback",
          "remote_phone is stored in its display form (+1 555-555-0100), not as sent", 1),
    # -- deletion ---------------------------------------------------------------------------
    Fault("deleted-still-readable", "sms/delete/then-get-404",
          "a deleted SMS is only marked deleted, and GET by id still returns it", 3),
    Fault("deleted-still-listed", "sms/delete/then-not-listed",
          "a deleted SMS is only marked deleted, and lists still include it", 3),
    Fault("delete-answers-204", "sms/delete/answers-200-empty",
          "a DELETE answers 204 No Content instead of 200 {}", 2),
    Fault("delete-returns-object", "sms/delete/answers-200-empty",
          "a DELETE answers 200 with the deleted SMS instead of {}", 2),
    Fault("delete-missing-answers-200", "sms/delete/unknown-id-404",
          "a DELETE of an SMS that does not exist (e.g. a second delete) answers 200 {}", 2),
    # -- protocol and schema ----------------------------------------------------------------
    Fault("get-served-as-html", "protocol/json-content-type",
          "GET of one SMS is served as text/html (the framework's default), the JSON body "
          "unchanged", 2),
    Fault("cost-as-int", "sms/object/schema",
          "the sender stores cost as the integer 1 instead of the string \"1\"", 1),
    Fault("users-missing", "sms/object/schema",
          "SMS objects lack the required users list", 1),
    Fault("dates-without-t", "sms/object/dates-iso8601",
          "date_created and date_updated use a space instead of 'T' between date and time", 1),
    Fault("date-sent-http-date", "sms/object/dates-iso8601",
          "a logged sent SMS has date_sent as an HTTP date (Thu, 01 Jan 2026 ...)", 1),
    Fault("non-string-text-500", "protocol/no-5xx",
          "a create whose text is not a string (a number, a list) answers 500", 2),
    Fault("unknown-id-500", "protocol/no-5xx",
          "a GET or PUT of an id that names no SMS answers 500", 2),
    Fault("error-body-detail", "protocol/error-body",
          '400 answers carry {"detail": "..."} (a web framework\'s default), none of the '
          "documented shapes", 2),
    Fault("phone-errors-as-phone", "protocol/field-error-names-field",
          "errors in local_phone or remote_phone are reported under field-errors.phone", 2),
    Fault("patch-answers-404", "protocol/method-not-allowed",
          "PATCH on an SMS answers 404 instead of 405", 2),
    # -- auth and isolation -----------------------------------------------------------------
    Fault("missing-credentials-accepted", "auth/missing-rejected",
          "a request without Authorization is served as the first organisation", 2),
    Fault("wrong-key-accepted", "auth/wrong-rejected",
          "a Basic API key that matches no organisation falls back to the first one", 2),
    Fault("bearer-refused", "auth/oauth-bearer",
          "OAuth Bearer tokens are refused with 401; only API keys work", 2),
    Fault("unauthorized-without-error", "auth/error-body",
          '401 answers carry {"detail": "..."} instead of {"error": "..."}', 2),
    Fault("isolation-get-leak", "isolation/get",
          "GET by id returns another organisation's SMS", 2),
    Fault("isolation-list-leak", "isolation/list",
          "a list filtered by id__in includes other organisations' SMS", 2),
    Fault("isolation-update-leak", "isolation/modify",
          "a PUT may edit another organisation's draft", 2),
    Fault("isolation-delete-leak", "isolation/modify",
          "a DELETE may delete another organisation's SMS", 2),
    Fault("foreign-lead-accepted", "isolation/foreign-reference",
          "a create may name another organisation's lead (and contact): the SMS is put on it", 2),
    Fault("foreign-template-accepted", "sms/create/template-unknown-rejected",
          "a create may name another organisation's SMS template, which is rendered", 2),
    Fault("foreign-local-phone-accepted", "sms/create/local-phone-internal",
          "a send may name another organisation's internal number as local_phone", 2),
    # -- rate limits ------------------------------------------------------------------------
    Fault("429-without-retry-after", "ratelimit/429-headers",
          "429 answers carry RateLimit but no Retry-After", 9),
    Fault("ratelimit-header-malformed", "ratelimit/header-format",
          "the RateLimit header separates its parts with spaces only", 1),
    Fault("retry-after-off-by-one", "ratelimit/retry-after-matches-reset",
          "Retry-After is one second more than the RateLimit reset", 9),
)  # fmt: skip

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _ALL}

# Documented rules no single faulty variant is filed under, and why. Every other MUST and
# SHOULD rule of the catalogue has a variant that breaks it (tests/test_selftest.py).
UNBROKEN: dict[str, str] = {
    "auth/api-key-basic": "a server refusing the API key refuses the fixtures too, so the run "
    "is inconclusive (exit 3, 'the target refused the credentials'), never a pass",
    "protocol/invalid-input-rejected": "schemathesis's negative-data check; the variants that "
    "accept invalid input (unknown-status-draft, send-in-non-numeric-ignored, ...) are filed "
    "under the business rule they break, which the state machine names",
}


def _known(name: object) -> bool:
    """A registered name: a fault of :data:`FAULTS`, or a race variant
    (:data:`~conformance.refserver.race_faults.RACE_FAULTS`, kept out of ``FAULTS``)."""
    return isinstance(name, str) and (name in FAULTS or name in RACE_FAULTS)


def _unknown(names: Iterable[str]) -> str:
    return (
        f"unknown fault(s) {', '.join(map(repr, sorted(names)))}; "
        f"known faults: {', '.join(sorted(FAULTS))}; "
        f"race variants: {', '.join(sorted(RACE_FAULTS))}"
    )


@dataclass(frozen=True, slots=True)
class Faults:
    """The faults a server runs with: a set of registered fault names.

    ``name in faults`` takes only a registered name: any other (a typo at a check site,
    ``None``, a whole set) is a ``ValueError``, never a silent ``False``. Iterating gives
    the names in sorted order; an empty :class:`Faults` is false.
    """

    names: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = {name for name in self.names if not _known(name)}
        if unknown:
            raise ValueError(_unknown(unknown))

    def __contains__(self, name: str) -> bool:
        if not _known(name):
            raise ValueError(f"{name!r} is not a registered fault; {_unknown([str(name)])}")
        return name in self.names

    def any_of(self, *names: str) -> bool:
        """True when at least one of ``names`` (each registered) is switched on."""
        return any([name in self for name in names])

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.names))

    def __len__(self) -> int:
        return len(self.names)

    def __bool__(self) -> bool:
        return bool(self.names)


NO_FAULTS = Faults()


def check_faults(names: Iterable[str]) -> Faults:
    """Return ``names`` as :class:`Faults`; raises ``ValueError`` naming the known faults
    when one is unknown (a plain string is rejected, it is almost always a missing tuple)."""
    if isinstance(names, str):
        raise ValueError(f"faults must be an iterable of names, not the string {names!r}")
    return Faults(frozenset(names))
