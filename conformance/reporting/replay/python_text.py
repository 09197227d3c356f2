"""The fixed text of the Python replay: the script's helpers (fixtures, waits, the symptom
check, clean-up) around the steps :func:`~conformance.reporting.replay.python.python_script`
writes. ``{...}`` fields are filled by ``str.format``."""

_SCRIPT_HEAD = '''#!/usr/bin/env python3
"""{docstring}
"""

from __future__ import annotations

import os
import re
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from urllib.parse import quote

import httpx

BASE_URL = os.environ.get("CLOSE_API_URL", {target}).rstrip("/") + "/"
LOCAL_PHONE_1 = os.environ.get("CLOSE_LOCAL_PHONE", {phone})
RUN_ID = uuid.uuid4().hex[:12]
#: (op, key, value) that must all hold of the last answer for the violation to show;
#: None: this failure has no symptom a replay can check.
SYMPTOM = {symptom}
CREATED: list[str] = []
ELSEWHERE: list[str] = []  # made with CLOSE_SECOND_API_KEY, as another organisation's


class SetupFailed(Exception):
    """A fixture could not be created."""


def show(response: httpx.Response) -> None:
    """Print the request line, the response status and the response body."""
    print(response.request.method, response.request.url, "->", response.status_code)
    print(response.text)


def at(value: str, shift: timedelta, anchor: datetime | None = None, hours: float = 0.0) -> str:
    """The recorded date-time ``value`` moved by ``shift``, written in the same style; a
    bare date (a day filter) moves by whole days: those between the day of ``anchor`` and
    that of ``anchor + shift``, at ``hours`` east of UTC (its request's x-tz-offset)."""
    if len(value) == 10:
        zone = timezone(timedelta(hours=hours))
        days = round(shift / timedelta(days=1))
        if anchor is not None:
            days = ((anchor + shift).astimezone(zone).date() - anchor.astimezone(zone).date()).days
        return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
    moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
    moved = moment + shift
    fraction = "." in value or moved.microsecond
    text = moved.isoformat(timespec="microseconds" if fraction else "seconds")
    if "T" not in value:
        text = text.replace("T", " ", 1)
    return text.replace("+00:00", "Z") if value.endswith("Z") else text


def reanchor(
    response: httpx.Response, recorded: str, shift: timedelta, anchor: datetime
) -> tuple[timedelta, datetime]:
    """The shift that puts the recorded ``recorded`` date_created on the replayed one, and
    the recorded moment it is measured from (else ``shift`` and ``anchor`` as they were)."""
    try:
        new = response.json()["date_created"]
        before = datetime.fromisoformat(recorded.replace("Z", "+00:00"))
        return datetime.fromisoformat(new.replace("Z", "+00:00")) - before, before
    except (ValueError, KeyError, TypeError, AttributeError):
        return shift, anchor


def send(client: httpx.Client, method: str, url: str, **kwargs: object) -> httpx.Response:
    """Send one request; a 429 is waited out (Retry-After, else a second) and sent again,
    up to 5 times, as the run's client does."""
    for _ in range(5):
        response = client.request(method, url, **kwargs)
        if response.status_code != 429:
            return response
        show(response)
        wait = response.headers.get("retry-after", "").strip()
        time.sleep(min(int(wait), 60) if wait.isdigit() else 1)
    return client.request(method, url, **kwargs)


def drive(client: httpx.Client, method: str, url: str, **kwargs: object) -> httpx.Response:
    """Send the same request until the target throttles it (a 429), at most 300 times: a
    rate-limit failure shows on the throttled answer. Returns the 429, else the last."""
    for _ in range(300):
        response = client.request(method, url, **kwargs)
        if method == "POST":
            created(response)  # a driving create is deleted at the end
        if response.status_code == 429:
            break
    return response


def key_auth() -> tuple[str, str]:
    return (os.environ["CLOSE_API_KEY"], "")


def second_auth() -> tuple[str, str]:
    return (os.environ["CLOSE_SECOND_API_KEY"], "")


def fixture(client: httpx.Client, path: str, body: dict, elsewhere: bool = False) -> dict:
    """Create a lead or template (``elsewhere``: in the second organisation, with its key),
    note it for deletion and return it."""
    auth = second_auth() if elsewhere else key_auth()
    response = client.post(BASE_URL + path, auth=auth, json=body)
    show(response)
    answer = response.json() if 200 <= response.status_code < 300 else None
    if not isinstance(answer, dict) or not answer.get("id"):
        raise SetupFailed(f"POST {{path}} answered {{response.status_code}}")
    (ELSEWHERE if elsewhere else CREATED).append(path + answer["id"] + "/")
    return answer


def created(response: httpx.Response) -> str:
    """The id of the SMS the step created ("" if none), noted for deletion."""
    try:
        answer = response.json() if 200 <= response.status_code < 300 else None
    except ValueError:
        answer = None
    new_id = answer.get("id") if isinstance(answer, dict) else None
    if not isinstance(new_id, str) or not new_id:
        return ""
    CREATED.append("activity/sms/" + new_id + "/")
    return new_id


def resolve(body: object, key: str) -> tuple[bool, object]:
    """(present, value) of the path ``key`` ("data.0.status") in ``body``."""
    node = body
    for part in key.split("."):
        if part.isdigit() and isinstance(node, list) and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False, None
    return True, node


def json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "null" if value is None else "object"


def header(response: httpx.Response, name: str) -> str | None:
    """The header ``name`` of ``response`` (for content-type, its media type)."""
    value = response.headers.get(name)
    if value is not None and name == "content-type":
        return value.split(";", 1)[0].strip().lower()
    return value.strip() if value is not None else None


def shows(response: httpx.Response) -> bool:
    """True when the last answer has every part of SYMPTOM."""
    try:
        body = response.json()
    except ValueError:
        body = None
    for op, key, value in SYMPTOM or ():
        if op == "status":
            if response.status_code != value:
                return False
            continue
        if op in ("header", "no-header", "header-shape"):
            found = header(response, key)
            if op == "header-shape" and found is not None:
                found = re.sub(r"\\d+(\\.\\d+)?", "N", found)
            if found != (None if op == "no-header" else value):
                return False
            continue
        present, item = resolve(body, key)
        held = {{
            "eq": present and item == value,
            "null": present and item is None,
            "not-null": item is not None,
            "length": isinstance(item, list | dict | str) and len(item) == value,
            "present": present,
            "absent": not present,
            "type": present and json_type(item) == value,
            "not-iso": isinstance(item, str)
            and not re.match(r"\\d{{4}}-\\d{{2}}-\\d{{2}}T\\d{{2}}:\\d{{2}}", item),
        }}[op]
        if not held:
            return False
    return True


def main(client: httpx.Client | None = None) -> int:
    """Create the fixtures, send the recorded steps with their waits, check the symptom,
    delete what was created; return the exit status."""
    missing = [name for name in {variables} if not os.environ.get(name)]
    if missing:
        print("set", ", ".join(missing), "first", file=sys.stderr)
        return 2
    if client is None:
        client = httpx.Client(timeout=30.0)
    try:
        response = steps(client)
    except (SetupFailed, httpx.HTTPError) as error:
        print("could not run the replay:", error, file=sys.stderr)
        return 2
    finally:
        for path in reversed(CREATED):
            client.delete(BASE_URL + path, auth=key_auth())
        for path in reversed(ELSEWHERE):
            client.delete(BASE_URL + path, auth=second_auth())
        CREATED.clear()
        ELSEWHERE.clear()
    if SYMPTOM is None:
        print(
            "cannot tell: the last answer is what a conforming server answers too; "
            "compare the output with the report",
            file=sys.stderr,
        )
        return 3
    if shows(response):
        print("REPRODUCED: the violation of", {rule}, "shows:", {described})
        return 1
    print("not reproduced: the last answer does not have", {described})
    return 0


def steps(client: httpx.Client) -> httpx.Response:
    """Create the fixtures, then send the recorded steps; return the last answer."""
'''

_SCRIPT_TAIL = """

if __name__ == "__main__":
    sys.exit(main())
"""
