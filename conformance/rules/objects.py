"""The SMS object: its schema (1.7), and what you write is what you read back.

Each SMS object the server returns for a known SMS is compared with the values the run
wrote to it. A mismatch is blamed on the rule that promised the value: a field an update
did not touch belongs to ``sms/update/partial``, a rendered template to
``sms/create/template-renders``, the text to ``roundtrip/text``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from conformance.catalogue import CATALOGUE
from conformance.checks import Finding, Step, check
from conformance.dates import parse_shown_datetime
from conformance.model import SmsRecord, floor_ms, parse_datetime
from conformance.rules._util import observed_objects, shown
from conformance.vocabulary import DIRECTIONS, SOURCES, STATUSES

NULLABLE_STRINGS = (
    "activity_at", "contact_id", "cost", "created_by", "date_scheduled", "date_sent",
    "error_message", "lead_id", "local_country_iso", "local_phone", "local_phone_formatted",
    "remote_country_iso", "remote_phone", "remote_phone_formatted", "template_id", "text",
    "updated_by", "user_id",
)  # fmt: skip
STRINGS = ("_type", "date_created", "date_updated", "id", "organization_id")
ENUMS = {"direction": DIRECTIONS, "source": SOURCES, "status": STATUSES}
DATES = ("activity_at", "date_created", "date_scheduled", "date_sent", "date_updated")
COMPARED = (
    "text",
    "local_phone",
    "remote_phone",
    "lead_id",
    "contact_id",
    "template_id",
    "direction",
    "attachments",
    "date_scheduled",
)


def schema_problems(obj: Any) -> list[str]:
    """Return what keeps ``obj`` from being a valid SMSActivity (extra fields are fine)."""
    if not isinstance(obj, dict):
        return [f"not a JSON object: {shown(obj)}"]
    problems = []
    for name in NULLABLE_STRINGS:
        if name not in obj:
            problems.append(f"{name} missing")
        elif obj[name] is not None and not isinstance(obj[name], str):
            problems.append(f"{name} is {shown(obj[name])}, not a string or null")
    for name in STRINGS:
        if not isinstance(obj.get(name), str):
            problems.append(f"{name} is {shown(obj.get(name))}, not a string")
    for name, allowed in ENUMS.items():
        if obj.get(name) not in allowed:
            problems.append(f"{name} is {shown(obj.get(name))}, not one of {list(allowed)}")
    if not isinstance(obj.get("users"), list):
        problems.append(f"users is {shown(obj.get('users'))}, not a list")
    return problems


@check(
    "sms/object/schema",
    "sms/object/dates-iso8601",
    on=("create", "update", "get", "list", "list-walk"),
)
def objects_follow_the_schema(step: Step) -> Iterator[Finding]:
    if "_fields" in step.params:
        return
    for _record, obj, _context in observed_objects(step):
        problems = schema_problems(obj)
        yield Finding(
            "sms/object/schema", not problems, "an SMSActivity object", "; ".join(problems[:5])
        )
        if isinstance(obj, dict):
            bad = [
                name
                for name in DATES
                if obj.get(name) is not None and parse_shown_datetime(obj[name]) is None
            ]
            yield Finding(
                "sms/object/dates-iso8601",
                not bad,
                "ISO 8601 date-times",
                ", ".join(f"{name}={shown(obj[name])}" for name in bad),
            )


def _is_web_url(value: Any) -> bool:
    """True for an absolute http(s) URL: an attachment's url may be the one given or the
    server's own (open point attachment-url; the docs' example is
    ``https://app.close.com/go/sms/<acti_id>/media/<media_id>/``)."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _same(name: str, written: Any, actual: Any) -> bool:
    if name == "date_scheduled":
        # Read back to the microsecond, or truncated to the millisecond by a server that
        # keeps milliseconds (the time-precision open point).
        shown = parse_datetime(actual)
        return written == shown or (written is not None and floor_ms(written) == shown)
    if name == "attachments":
        if not isinstance(actual, list) or len(actual) != len(written):
            return False
        return all(
            isinstance(got, dict)
            and all(got.get(key) == want[key] for key in ("filename", "content_type"))
            and (got.get("url") == want["url"] or _is_web_url(got.get("url")))
            and isinstance(got.get("media_id"), str)
            and got["media_id"]
            for want, got in zip(written, actual, strict=True)
        )
    if name == "text" and written is None:
        return actual in (None, "")
    return written == actual


def _blame(name: str, record: SmsRecord, context: str, request: Mapping[str, Any]) -> str:
    if context == "read" and name in record.updated:
        return "roundtrip/update-readback"  # an update answered, but not what is stored
    if name == "text" and "template_id" in record.written and "text" not in request:
        return "sms/create/template-renders" if context == "create" else "roundtrip/text"
    if name == "text":
        return "roundtrip/text"
    if context == "update":
        return "roundtrip/update-readback" if name in request else "sms/update/partial"
    if name in record.updated:
        return "roundtrip/update-readback"
    if name == "attachments":
        return "sms/create/attachments"
    if name == "direction" and context == "create":
        explicit = "direction" in request
        return "sms/create/direction-explicit" if explicit else "sms/create/direction-default"
    return "roundtrip/create-readback"


@check(
    "roundtrip/create-readback",
    "roundtrip/update-readback",
    "roundtrip/text",
    "roundtrip/text-whitespace",
    "sms/update/partial",
    "sms/create/template-renders",
    "sms/create/attachments",
    "sms/create/direction-default",
    "sms/create/direction-explicit",
    "sms/create/local-phone-required",
    "sms/get/returns-object",
    on=("create", "update", "get", "list", "list-walk"),
)
def what_was_written_reads_back(step: Step) -> Iterator[Finding]:
    fields = set(step.params["_fields"].split(",")) if "_fields" in step.params else None
    request = step.request_body if isinstance(step.request_body, dict) else {}
    for record, obj, context in observed_objects(step):
        if not isinstance(obj, dict):
            yield Finding("sms/get/returns-object", False, "an SMS object", shown(obj))
            continue
        if record.id and (fields is None or "id" in fields) and obj.get("id") != record.id:
            yield Finding("sms/get/returns-object", False, f"id {record.id}", shown(obj.get("id")))
            continue
        choices = record.local_phone_choices
        if choices is not None and (fields is None or "local_phone" in fields):
            # Caller ID picked the number a send did not name: one that may send SMS.
            actual = obj.get("local_phone")
            yield Finding(
                "sms/create/local-phone-required",
                actual is None or actual in choices,
                expected=f"local_phone null or one of the internal numbers {sorted(choices)}",
                actual=f"local_phone = {shown(actual)}",
                message=f"SMS {record.id or '(new)'} sent with no local_phone, as seen by "
                f"{step.operation}",
                reading="local-phone-on-sends=auto" if actual in choices else None,
            )
        for name in COMPARED:
            if name not in record.written or (fields is not None and name not in fields):
                continue
            if name == "date_scheduled" and record.status != "scheduled":
                continue  # what date_scheduled shows once an SMS is not scheduled is not documented
            written, actual = record.written[name], obj.get(name)
            if name == "text" and record.text_choices is not None:
                ok = actual in record.text_choices
                rule = "sms/create/template-and-text"
                if not ok:
                    yield Finding(
                        "roundtrip/text", False, shown(list(record.text_choices)), shown(actual)
                    )
                continue
            rule = _blame(name, record, context, request)
            ok = _same(name, written, actual) or record.may_read_back(name, actual)
            if name == "text" and isinstance(written, str) and written != written.strip():
                rule = "roundtrip/text-whitespace"  # trimming is not documented either way
            if name == "text" and not ok and _same_text_but_for_controls(written, actual):
                rule = "roundtrip/text-whitespace"  # nor line endings or control characters
            yield Finding(
                rule,
                ok,
                expected=f"{name} = {shown(written)}",
                actual=f"{name} = {shown(actual)}",
                message=f"SMS {record.id or '(new)'} as seen by {step.operation}",
                reading=_reading(name, rule, record, written, actual) if ok else None,
            )


# A field an open point leaves open: the point, and its readings when the field reads back as
# written and when in the other form the point allows.
FIELD_READINGS = {
    "direction": ("direction-override", "kept", "status-decides"),
    "text": ("text-normalisation", "as-given", "nfc"),
}


def _reading(name: str, rule: str, record: Any, written: Any, actual: Any) -> str | None:
    """The reading of an open point a read-back shows, when the field was still open."""
    if name == "attachments" and written and rule in CATALOGUE.open_points["attachment-url"].rules:
        # Read back as given, or rehosted on the server's own media urls.
        given = all(
            got.get("url") == want["url"] for want, got in zip(written, actual, strict=True)
        )
        return f"attachment-url={'as-given' if given else 'rehosted'}"
    if name not in FIELD_READINGS or name not in record.alternatives:
        return None
    point, as_written, other = FIELD_READINGS[name]
    if rule not in CATALOGUE.open_points[point].rules:
        return None
    return f"{point}={as_written if actual == written else other}"


@check("sms/get/fields", "sms/list/fields", on=("get", "list"))
def fields_parameter_trims_objects(step: Step) -> Iterator[Finding]:
    if "_fields" not in step.params or not step.succeeded:
        return
    wanted = set(step.params["_fields"].split(","))
    one_field = "_fields with one field" if len(wanted - {"id"}) <= 1 else None
    if step.operation == "get":
        objects, rule = [step.body], "sms/get/fields"
    else:
        body = step.body if isinstance(step.body, dict) else {}
        objects, rule = body.get("data") or [], "sms/list/fields"
        if not objects:
            # Accepted on a list ("not confirmed for list", 1.2), but with nothing to trim:
            # the acceptance is what there is to observe.
            yield Finding(
                rule,
                False,
                "not documented",
                f"HTTP {step.status_code} with no SMS on the page (trimming not seen)",
                message=f"_fields accepted on a list: query {step.params}",
                boundary=one_field,
            )
            return
    for index, obj in enumerate(objects):
        keys = set(obj) if isinstance(obj, dict) else set()
        missing, extra = wanted - keys, keys - wanted - {"id"}
        # On a list, the page's first SMS shows the page was trimmed (or not); every
        # finding may show a one-field _fields.
        trimmed = "a page of trimmed SMS" if rule == "sms/list/fields" and index == 0 else None
        yield Finding(
            rule,
            not missing and not extra,
            expected=f"exactly the fields {sorted(wanted)}",
            actual=f"missing {sorted(missing)}, extra {sorted(extra)}",
            boundary=trimmed or one_field,
        )


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _same_text_but_for_controls(written: Any, actual: Any) -> bool:
    """True when two texts differ only in line endings (CRLF or CR read back as LF) or in C0
    control characters left out: what a server does with them is not documented ("`text` |
    string or null"), so it is observed, not judged (audit O5)."""
    if not isinstance(written, str) or not isinstance(actual, str):
        return False

    def loose(text: str) -> str:
        return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))

    return loose(written) == loose(actual)
