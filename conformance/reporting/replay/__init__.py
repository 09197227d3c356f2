"""Turn a failure's steps into something a person can run again: a bash script of curl
commands, or a self-contained Python (httpx) script. Both run as pasted against a fresh
target:

- they create their own lead with a contact (and a template when the steps used one)
  through the documented endpoints, named ``sms-conformance <id> lead 0`` like a run's
  (so ``cleanup`` finds them if a replay is killed), and map the recorded ids onto them;
  each SMS a step creates is bound to a variable (``SMS_1`` in the shell, ``sms_1`` in
  Python) and replaces the recorded id in later paths and bodies;
- they wait between steps as the run did (``sleep``), from each step's ``sent_at``;
- at the end they check the violation's symptom on the last answer
  (:func:`conformance.replay.symptom_of`: what the recorded answer has that the clean
  reference server's does not) and exit 1 when it shows, 0 when it does not, 2 when a
  fixture could not be created, 3 when the failure has no symptom to check;
- they delete everything they created, whatever happens (``trap`` / ``finally``).

Neither holds a credential: each reads it from the environment variable named after the
step's ``auth`` (``CLOSE_API_KEY``, ...); the base URL is ``CLOSE_API_URL`` or else the
recorded target, the sending number ``CLOSE_LOCAL_PHONE`` or else the recorded one.
Whatever a recorded step carries, the replay text is scrubbed last by value
(``_safety.scrub_text``): given the run's ``secrets``, no form of any of them is in it.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from conformance.explain import explain
from conformance.records import Exchange, Failure
from conformance.replay import (
    Plan,
    Symptom,
    key_path,
    plan_for,
    raw_content_type,
    sends,
    symptom_of,
)
from conformance.reporting._safety import Secrets, scrub_text

__all__ = ["CREDENTIAL_VARIABLES", "Replay", "curl_commands", "python_script", "replay"]

#: The environment variable holding each credential kind; ``None`` means no variable.
CREDENTIAL_VARIABLES: dict[str, str | None] = {
    "basic": "CLOSE_API_KEY",
    "bearer": "CLOSE_OAUTH_TOKEN",
    "second-org": "CLOSE_SECOND_API_KEY",
    "none": None,
    "wrong": None,
}

_CURL_AUTH = {
    "basic": '-u "$CLOSE_API_KEY:"',
    "bearer": '-H "Authorization: Bearer $CLOSE_OAUTH_TOKEN"',
    "second-org": '-u "$CLOSE_SECOND_API_KEY:"',
    "none": "",
    "wrong": '-u "wrong-key:"',
}

_PYTHON_AUTH = {
    "basic": ("auth", '(os.environ["CLOSE_API_KEY"], "")'),
    "bearer": ("Authorization", '"Bearer " + os.environ["CLOSE_OAUTH_TOKEN"]'),
    "second-org": ("auth", '(os.environ["CLOSE_SECOND_API_KEY"], "")'),
    "none": None,
    "wrong": ("auth", '("wrong-key", "")'),
}

# Headers a replay carries over from the recording (lower case).
_REPLAYED_HEADERS = ("x-tz-offset",)
_ID_CHARS = "A-Za-z0-9_-"
_INLINE_WIDTH = 72
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_UNSET: Any = object()
CONTACT = {"name": "Ada Lovelace", "phones": [{"type": "mobile", "phone": "+15555550100"}]}
TEMPLATE_TEXT = "Hi {{ contact.first_name }}, this is a conformance check."
EXIT_CODES = (
    "Exit status: 1 when the violation shows (reproduced), 0 when it does not, 2 when the "
    "replay could not run (a credential not set, a fixture not created, no answer), 3 when "
    "this failure has no symptom to check."
)


@dataclass(frozen=True, slots=True)
class Replay:
    """A failure's steps as a bash script of curl commands (one line of text per item)
    and as a self-contained httpx script."""

    curl: list[str]
    python: str


def replay(failure: Failure, target: str, *, secrets: Secrets = None) -> Replay:
    """Return both replay forms of ``failure``'s steps against the base URL ``target``."""
    symptom = symptom_of(failure)
    return Replay(
        curl=curl_commands(
            failure.steps, target, rule=failure.rule, secrets=secrets, symptom=symptom
        ),
        python=python_script(failure, target, secrets=secrets, symptom=symptom),
    )


# -- names -----------------------------------------------------------------------------------


def _names(plan: Plan, steps: Sequence[Exchange], style: str) -> dict[str, str]:
    """``{recorded value: variable}``: fixtures, created SMS and the first local phone."""
    every = {**plan.names, **plan.date_names()}
    names = {value: name.upper() if style == "shell" else name for value, name in every.items()}
    phone = _first_local_phone(steps)
    if phone is not None and phone not in names:
        names[phone] = "LOCAL_PHONE_1"
    return names


def _first_local_phone(steps: Sequence[Exchange]) -> str | None:
    for exchange in steps:
        body = exchange.request.body
        if isinstance(body, dict) and isinstance(body.get("local_phone"), str):
            return body["local_phone"] or None
    return None


def _active(plan: Plan, names: dict[str, str], step: int) -> dict[str, str]:
    """The names usable at ``step``: fixtures always, an SMS once its step has run."""
    later = {sms_id for index, sms_id in plan.created.items() if index >= step}
    return {value: name for value, name in names.items() if value not in later}


def _pattern(values: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(value) for value in sorted(values, key=len, reverse=True))
    return re.compile(
        f"(?:(?<![{_ID_CHARS}])|(?<=%2C)|(?<=%2c))(?:{alternatives})(?![{_ID_CHARS}])"
    )


def _pieces(text: str, names: dict[str, str]) -> list[tuple[bool, str]]:
    """Split ``text`` into ``(is_variable, literal-or-name)`` pieces around bound values."""
    if not names or not text:
        return [(False, text)]
    pieces: list[tuple[bool, str]] = []
    position = 0
    for match in _pattern(list(names)).finditer(text):
        if match.start() > position:
            pieces.append((False, text[position : match.start()]))
        pieces.append((True, names[match.group()]))
        position = match.end()
    if position < len(text) or not pieces:
        pieces.append((False, text[position:]))
    return pieces


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _path(path: str) -> str:
    return path.lstrip("/")


def _replayed_headers(exchange: Exchange) -> list[tuple[str, str]]:
    return [
        (name, value)
        for name, value in exchange.request.headers.items()
        if name.lower() in _REPLAYED_HEADERS
    ]


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text.replace("\t", " ")).split())


def _recorded(exchange: Exchange) -> str:
    if exchange.response is not None:
        return f"recorded {exchange.response.status_code}"
    return f"recorded no response: {exchange.error or 'unknown error'}"


def _symptom_data(symptom: Symptom | None) -> list[list[Any]] | None:
    if symptom is None:
        return None
    return [[p.op, p.key, p.value] for p in symptom.predicates]


# -- curl ------------------------------------------------------------------------------------

_SHELL_HELPERS = r"""OUT=$(mktemp -d)
CREATED=()
cleanup() {
  local i
  for ((i = ${#CREATED[@]} - 1; i >= 0; i--)); do
    curl -sS -o /dev/null -X DELETE -u "$CLOSE_API_KEY:" "$BASE_URL/${CREATED[i]}" || true
  done
  rm -rf "$OUT"
}
trap cleanup EXIT
# call METHOD PATH BODY [CURL ARGS...]: send, print the status and the answer (in $OUT/body)
call() {
  local method=$1 path=$2 body=$3
  shift 3
  local args=(-sS -o "$OUT/body" -w '%{http_code}' -X "$method" "$@")
  if [ -n "$body" ]; then
    case " ${*,,} " in
      *content-type:*) args+=(--data-binary "$body") ;;
      *) args+=(-H 'Content-Type: application/json' --data-binary "$body") ;;
    esac
  fi
  STATUS=$(curl "${args[@]}" "$BASE_URL/${path#/}") || STATUS=000
  echo "$method /${path#/} -> $STATUS"
  cat "$OUT/body" 2>/dev/null
  echo
}
# fixture PATH BODY: create a lead or template with CLOSE_API_KEY, note it for deletion
fixture() {
  call POST "$1" "$2" -u "$CLOSE_API_KEY:"
  case $STATUS in 2??) ;; *) echo "could not create $1 (HTTP $STATUS)" >&2; exit 2 ;; esac
  FIXTURE_ID=$(jq -r '.id // empty' "$OUT/body")
  [ -n "$FIXTURE_ID" ] || { echo "POST $1 answered no id" >&2; exit 2; }
  CREATED+=("$1$FIXTURE_ID/")
}
# created VAR: set VAR to the id of the SMS the last step created (empty if none), noted
# for deletion
created() {
  local id=""
  case $STATUS in 2??) id=$(jq -r '.id // empty' "$OUT/body" 2>/dev/null) ;; esac
  [ -z "$id" ] || CREATED+=("activity/sms/$id/")
  printf -v "$1" '%s' "$id"
}"""


def curl_commands(
    steps: Sequence[Exchange],
    target: str,
    *,
    rule: str | None = None,
    secrets: Secrets = None,
    symptom: Symptom | None = _UNSET,
) -> list[str]:
    """Return the lines of a bash script replaying ``steps`` with curl and jq, scrubbed of
    ``secrets``: fixtures first, then one ``call`` per step (waits as recorded), then the
    symptom check that sets the exit status (see :data:`EXIT_CODES`).

    ``symptom`` defaults to :func:`~conformance.replay.symptom_of` the steps."""
    if symptom is _UNSET:
        symptom = symptom_of(Failure(rule or "", "", "", "", tuple(steps)))
    plan = plan_for(steps)
    names = _names(plan, steps, "shell")
    lines = ["#!/usr/bin/env bash"]
    if rule:
        lines.append(f"# Replay of the failure of rule {rule}.")
    variables = sorted(
        {v for s in steps if (v := CREDENTIAL_VARIABLES.get(s.request.auth)) is not None}
        | {"CLOSE_API_KEY"}
    )
    needs = "bash 4+, curl, jq" + (", GNU date" if plan.dates else "")
    lines.append("# Set " + ", ".join(variables) + f" in the environment first; needs {needs}.")
    lines.append(
        "# Creates its own lead, contact and template (when used), deletes all it creates."
    )
    lines.append("# " + EXIT_CODES)
    if sends(steps):
        lines.append(
            "# It sends SMS (a step sets status outbox or scheduled) to the recorded numbers."
        )
    if symptom is not None:
        lines.append("# The violation shows when the last answer has: " + symptom.describe())
    lines.append("set -u")
    lines.append("command -v jq >/dev/null || { echo 'this replay needs jq' >&2; exit 2; }")
    for variable in variables:
        lines.append(
            f'[ -n "${{{variable}:-}}" ] || {{ echo "set {variable} first" >&2; exit 2; }}'
        )
    lines.append(f"BASE_URL=${{CLOSE_API_URL:-{_dq(target)}}}")
    lines.append('BASE_URL="${BASE_URL%/}"')
    phone = _first_local_phone(steps)
    if phone is not None and phone in names:
        lines.append(f"LOCAL_PHONE_1=${{CLOSE_LOCAL_PHONE:-{_dq(phone)}}}")
    lines.append("RUN_ID=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \\n')")
    lines.extend(_SHELL_HELPERS.splitlines())
    lines.extend(_shell_fixtures(plan))
    for position, exchange in enumerate(steps):
        if plan.waits[position]:
            lines.append(f"sleep {plan.waits[position]:g}  # as recorded")
        if position == 0 and plan.dates and plan.start is not None:
            lines.extend(_shell_dates(plan))
        lines.append(_curl(exchange, _active(plan, names, position), position, len(steps)))
        if position in plan.created:
            lines.append(f"created {names[plan.created[position]]}")
    lines.extend(_shell_verdict(symptom, rule or "the rule"))
    return [scrub_text(line, secrets) for line in lines]


def _shell_dates(plan: Plan) -> list[str]:
    """Move each date the steps name by the time since the recorded first step (GNU date;
    to the second, written in UTC)."""
    assert plan.start is not None
    lines = [
        "# The dates the steps name, moved as far as now is from the recorded first step.",
        f"SHIFT=$(( $(date -u +%s) - $(date -u -d {shlex.quote(plan.start.isoformat())} +%s) ))",
        'at() { date -u -d "@$(( $(date -u -d "$1" +%s) + SHIFT ))" +%Y-%m-%dT%H:%M:%S+00:00; }',
    ]
    for (_, (value, encoded)), name in zip(
        plan.dates.items(), plan.date_names().values(), strict=True
    ):
        moved = f"$(at {shlex.quote(value)})"
        if encoded:
            moved = f"$(jq -rn --arg v \"{moved}\" '$v|@uri')"
        lines.append(f"{name.upper()}={moved}")
    return lines


def _dq(text: str) -> str:
    """``text`` inside double quotes for the shell, nothing expanded."""
    return '"' + re.sub(r'([\\"$`])', r"\\\1", text) + '"'


def _shell_fixtures(plan: Plan) -> list[str]:
    lines: list[str] = []
    for number, (_, _contacts) in enumerate(plan.leads, start=1):
        body = {"name": "NAME", "contacts": [CONTACT]}
        text = _json_text(body).replace('"NAME"', '"\'"$NAME"\'"')
        lines.append(f'NAME="sms-conformance $RUN_ID lead {number - 1}"')
        lines.append(f"fixture lead/ '{text}'")
        lines.append(f"LEAD_{number}=$FIXTURE_ID")
        lines.append(f"CONTACT_{number}=$(jq -r '.contacts[0].id' \"$OUT/body\")")
    for number, _ in enumerate(plan.templates, start=1):
        body = {"name": "NAME", "text": TEMPLATE_TEXT}
        text = _json_text(body).replace('"NAME"', '"\'"$NAME"\'"')
        lines.append('NAME="sms-conformance $RUN_ID template"')
        lines.append(f"fixture sms_template/ '{text}'")
        lines.append(f"TEMPLATE_{number}=$FIXTURE_ID")
    return lines


def _curl(exchange: Exchange, names: dict[str, str], position: int, total: int) -> str:
    request = exchange.request
    comments = [_one_line(f"# Step {position + 1} of {total}, {_recorded(exchange)}")]
    method = shlex.quote(request.method.upper())
    args = [f"call {method} {_shell_word('/' + _path(request.path), names)}"]
    raw = raw_content_type(request)
    if raw is not None:
        args.append(_shell_word(str(request.body), names))
    else:
        args.append("''" if request.body is None else _shell_word(_json_text(request.body), names))
    auth = _CURL_AUTH.get(request.auth)
    if auth is None:
        comments.append(f"# unknown auth {request.auth!r}: no credential sent")
        auth = ""
    if auth:
        args.append(auth)
    for name, value in _replayed_headers(exchange):
        args.append("-H " + shlex.quote(f"{name}: {value}"))
    if raw is not None:
        args.append("-H " + shlex.quote(f"content-type: {raw}"))
    return "\n".join([*comments, " \\\n  ".join(args)])


def _shell_word(text: str, names: dict[str, str]) -> str:
    words = [
        f'"${value}"' if is_variable else shlex.quote(value)
        for is_variable, value in _pieces(text, names)
        if is_variable or value
    ]
    return "".join(words) or "''"


def _shell_verdict(symptom: Symptom | None, rule: str) -> list[str]:
    if symptom is None:
        return [
            f"echo 'cannot tell: the last answer of this failure of {rule} is what a "
            "conforming server answers too; compare the output with the report' >&2",
            "exit 3",
        ]
    status = next((p.value for p in symptom.predicates if p.op == "status"), None)
    tests = [_jq_test(p) for p in symptom.predicates if p.op != "status"]
    condition = f'[ "$STATUS" = {shlex.quote(str(status))} ]' if status is not None else "true"
    if tests:
        condition += (
            " && jq -e " + shlex.quote(" and ".join(tests)) + ' "$OUT/body" >/dev/null 2>&1'
        )
    described = shlex.quote(symptom.describe())
    return [
        '[ "$STATUS" != 000 ] || { echo "the last step got no answer" >&2; exit 2; }',
        f"if {condition}; then",
        f"  echo REPRODUCED: the violation of {shlex.quote(rule)} shows: {described}",
        "  exit 1",
        "fi",
        f"echo not reproduced: the last answer does not have {described}",
        "exit 0",
    ]


def _jq_test(predicate: Any) -> str:
    *parents, last = key_path(predicate.key)
    parent = "." + "".join(f"[{json.dumps(part)}]" for part in parents)
    key = parent.rstrip(".") + f"[{json.dumps(last)}]"
    if not key.startswith("."):
        key = "." + key
    container = f'(({parent} | type) as $p | $p == "object" or $p == "array")'
    present = f"({container} and ({parent} | has({json.dumps(last)})))"
    return {
        "eq": f"({present} and {key} == {json.dumps(predicate.value)})",
        "null": f"({present} and {key} == null)",
        "not-null": f"({key} != null)",
        "length": f'(({key} | type) as $t | ($t == "array" or $t == "object" or '
        f'$t == "string") and ({key} | length) == {json.dumps(predicate.value)})',
        "present": present,
        "absent": f"({present} | not)",
    }[predicate.op]


# -- python ----------------------------------------------------------------------------------


_SCRIPT_HEAD = '''#!/usr/bin/env python3
"""{docstring}
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import httpx

BASE_URL = os.environ.get("CLOSE_API_URL", {target}).rstrip("/") + "/"
LOCAL_PHONE_1 = os.environ.get("CLOSE_LOCAL_PHONE", {phone})
RUN_ID = uuid.uuid4().hex[:12]
#: (op, key, value) that must all hold of the last answer for the violation to show;
#: None: this failure has no symptom a replay can check.
SYMPTOM = {symptom}
CREATED: list[str] = []


class SetupFailed(Exception):
    """A fixture could not be created."""


def show(response: httpx.Response) -> None:
    """Print the request line, the response status and the response body."""
    print(response.request.method, response.request.url, "->", response.status_code)
    print(response.text)


def at(value: str, shift: timedelta) -> str:
    """The recorded date-time ``value`` moved by ``shift``, written in the same style."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
    moved = moment + shift
    fraction = "." in value or moved.microsecond
    text = moved.isoformat(timespec="microseconds" if fraction else "seconds")
    if "T" not in value:
        text = text.replace("T", " ", 1)
    return text.replace("+00:00", "Z") if value.endswith("Z") else text


def reanchor(response: httpx.Response, recorded: str, shift: timedelta) -> timedelta:
    """The shift that puts the recorded ``recorded`` date_created on the replayed one."""
    try:
        new = response.json()["date_created"]
        return datetime.fromisoformat(new.replace("Z", "+00:00")) - datetime.fromisoformat(
            recorded.replace("Z", "+00:00")
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return shift


def key_auth() -> tuple[str, str]:
    return (os.environ["CLOSE_API_KEY"], "")


def fixture(client: httpx.Client, path: str, body: dict) -> dict:
    """Create a lead or template, note it for deletion and return it."""
    response = client.post(BASE_URL + path, auth=key_auth(), json=body)
    show(response)
    answer = response.json() if 200 <= response.status_code < 300 else None
    if not isinstance(answer, dict) or not answer.get("id"):
        raise SetupFailed(f"POST {{path}} answered {{response.status_code}}")
    CREATED.append(path + answer["id"] + "/")
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
        present, item = resolve(body, key)
        held = {{
            "eq": present and item == value,
            "null": present and item is None,
            "not-null": item is not None,
            "length": isinstance(item, list | dict | str) and len(item) == value,
            "present": present,
            "absent": not present,
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
        CREATED.clear()
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


def python_script(
    failure: Failure, target: str, *, secrets: Secrets = None, symptom: Symptom | None = _UNSET
) -> str:
    """Return the source of a Python script (httpx) replaying ``failure``'s steps.

    The script's ``main(client=None)`` creates the fixtures, sends the steps (printing
    each status and body, waiting as recorded), checks the symptom and deletes what it
    created, returning the exit status (:data:`EXIT_CODES`); its docstring names the rule
    and the expected and actual behaviour. Credentials come from the environment, the
    base URL from ``CLOSE_API_URL`` or else ``target``; the source is scrubbed of
    ``secrets``."""
    if symptom is _UNSET:
        symptom = symptom_of(failure)
    steps = failure.steps
    plan = plan_for(steps)
    names = _names(plan, steps, "python")
    variables = sorted(
        {v for s in steps if (v := CREDENTIAL_VARIABLES.get(s.request.auth)) is not None}
        | {"CLOSE_API_KEY"}
    )
    doc = [
        f"Replay of the failure of rule {failure.rule}: {failure.message}",
        "",
        *explain(failure).lines(),  # what differs, as every report tells it
        "",
        "The violation shows when the last answer has: "
        + (symptom.describe() if symptom is not None else "(no symptom found)"),
        EXIT_CODES,
        "",
        f"Recorded against {target}; set CLOSE_API_URL to replay elsewhere (and",
        "CLOSE_LOCAL_PHONE for another sending number). Creates its own lead, contact and",
        "template (when used) and deletes all it creates.",
        "Reads " + ", ".join(variables) + " from the environment.",
        *(
            ["It sends SMS (a step sets status outbox or scheduled) to the recorded numbers."]
            if sends(steps)
            else []
        ),
        "Needs httpx (pip install httpx).",
    ]
    phone = _first_local_phone(steps)
    described = _literal(symptom.describe()) if symptom is not None else '""'
    source = _SCRIPT_HEAD.format(
        docstring=_docstring("\n".join(doc)),
        target=_literal(target),
        phone=_literal(phone or ""),
        symptom=_python_inline(_symptom_data(symptom), {}),
        rule=_literal(failure.rule),
        variables=repr(tuple(variables)),
        described=described,
    )
    body: list[str] = []
    for number, _ in enumerate(plan.leads, start=1):
        body.append("    lead = fixture(")
        body.append("        client,")
        body.append('        "lead/",')
        body.append(
            f'        {{"name": f"sms-conformance {{RUN_ID}} lead {number - 1}", '
            f'"contacts": [{_python_inline(CONTACT, {})}]}},'
        )
        body.append("    )")
        body.append(f'    lead_{number} = lead["id"]')
        body.append(f'    contact_{number} = lead["contacts"][0]["id"]')
    for number, _ in enumerate(plan.templates, start=1):
        body.append(f"    template_{number} = fixture(")
        body.append("        client,")
        body.append('        "sms_template/",')
        body.append(
            f'        {{"name": f"sms-conformance {{RUN_ID}} template", '
            f'"text": {_literal(TEMPLATE_TEXT)}}},'
        )
        body.append('    )["id"]')
    body.append("    response = None")
    for position, exchange in enumerate(steps):
        if plan.waits[position]:
            body.append(f"    time.sleep({plan.waits[position]!r})  # as recorded")
        if position == 0 and plan.dates and plan.start is not None:
            body.extend(_python_dates(plan))
        body.extend(_python_step(exchange, position, len(steps), _active(plan, names, position)))
        if position in plan.created:
            body.append(f"    {names[plan.created[position]]} = created(response)")
            if position == min(plan.created) and plan.dates and plan.start is not None:
                body.extend(_python_reanchor(plan, exchange))
    body.append("    return response")
    return scrub_text(source + "\n".join(body) + "\n" + _SCRIPT_TAIL, secrets)


def _python_dates(plan: Plan) -> list[str]:
    assert plan.start is not None
    lines = [
        "    # The dates the steps name, moved as far as now is from the recorded first step.",
        "    shift = datetime.now(timezone.utc) - datetime.fromisoformat("
        f"{_literal(plan.start.isoformat())})",
    ]
    for (_, (value, encoded)), name in zip(
        plan.dates.items(), plan.date_names().values(), strict=True
    ):
        moved = f"at({_literal(value)}, shift)"
        lines.append(f"    {name} = " + (f'quote({moved}, safe="")' if encoded else moved))
    return lines


def _python_reanchor(plan: Plan, exchange: Exchange) -> list[str]:
    """After the first SMS is created, later dates keep their exact distance to its
    date_created (as the server set it): a boundary stays a boundary."""
    recorded = exchange.response.body if exchange.response is not None else None
    value = recorded.get("date_created") if isinstance(recorded, dict) else None
    if not isinstance(value, str):
        return []
    lines = [f"    shift = reanchor(response, {_literal(value)}, shift)"]
    for (_, (date, encoded)), name in zip(
        plan.dates.items(), plan.date_names().values(), strict=True
    ):
        moved = f"at({_literal(date)}, shift)"
        lines.append(f"    {name} = " + (f'quote({moved}, safe="")' if encoded else moved))
    return lines


def _docstring(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", escaped)


def _python_step(exchange: Exchange, position: int, total: int, names: dict[str, str]) -> list[str]:
    request = exchange.request
    lines = ["    " + _one_line(f"# Step {position + 1} of {total}, {_recorded(exchange)}")]
    path = _python_string(_pieces(_path(request.path), names))
    args = [_literal(request.method.upper()), f"BASE_URL + {path}" if path != '""' else "BASE_URL"]
    headers: list[tuple[str, str]] = [
        (_literal(name), _literal(value)) for name, value in _replayed_headers(exchange)
    ]
    auth = _PYTHON_AUTH.get(request.auth)
    if request.auth not in _PYTHON_AUTH:
        lines.append(f"    # unknown auth {request.auth!r}: no credential sent")
    elif auth is not None and auth[0] == "auth":
        args.append(f"auth={auth[1]}")
    elif auth is not None:
        headers.insert(0, (_literal(auth[0]), auth[1]))
    raw = raw_content_type(request)
    if raw is not None:
        headers.append(('"content-type"', _literal(raw)))
    if headers:
        args.append("headers={" + ", ".join(f"{k}: {v}" for k, v in headers) + "}")
    if raw is not None:
        args.append("content=(" + _python_string(_pieces(str(request.body), names)) + ").encode()")
    elif request.body is not None:
        args.append("json=" + _python_value(request.body, names, 8))
    lines.append("    response = client.request(")
    lines.extend(f"        {arg}," for arg in args)
    lines.append("    )")
    lines.append("    show(response)")
    return lines


def _python_string(pieces: list[tuple[bool, str]]) -> str:
    parts = [value if is_variable else _literal(value) for is_variable, value in pieces if value]
    return " + ".join(parts) or '""'


def _literal(text: str) -> str:
    """Return a Python string literal for ``text``, double-quoted where repr allows."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        return '"' + literal[1:-1] + '"'
    return literal


def _python_value(value: Any, names: dict[str, str], indent: int) -> str:
    """Return a Python expression for the JSON ``value``, bound values replaced by names."""
    inline = _python_inline(value, names)
    if len(inline) + indent <= _INLINE_WIDTH or not isinstance(value, dict | list) or not value:
        return inline
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        items = [
            f"{pad}{_python_string(_pieces(str(k), names))}: {_python_value(v, names, indent + 4)},"
            for k, v in value.items()
        ]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    items = [f"{pad}{_python_value(v, names, indent + 4)}," for v in value]
    return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"


def _python_inline(value: Any, names: dict[str, str]) -> str:
    if isinstance(value, str):
        return _python_string(_pieces(value, names))
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, dict):
        items = ", ".join(
            f"{_python_string(_pieces(str(k), names))}: {_python_inline(v, names)}"
            for k, v in value.items()
        )
        return "{" + items + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_python_inline(v, names) for v in value) + "]"
    return _literal(str(value))
