"""The bash replay: curl commands, with jq checking the symptom at the end."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from typing import Any

from conformance.records import Exchange, Failure
from conformance.replay import (
    DRIVE_NOTE,
    FILL_NOTE,
    FOREIGN_CONTACTS,
    THROTTLED_NOTE,
    Plan,
    Symptom,
    contact_name,
    fill_body,
    key_path,
    lead_contacts,
    plan_for,
    raw_content_type,
    sends,
    symptom_of,
    throttled,
)
from conformance.reporting._safety import Secrets, scrub_text
from conformance.reporting.replay.common import (
    _UNSET,
    EXIT_CODES,
    FOREIGN_NOTE,
    TEMPLATE_TEXT,
    _active,
    _first_local_phone,
    _json_text,
    _names,
    _one_line,
    _path,
    _pieces,
    _recorded,
    _replayed_headers,
    _variables,
)

_CURL_AUTH = {
    "basic": '-u "$CLOSE_API_KEY:"',
    "bearer": '-H "Authorization: Bearer $CLOSE_OAUTH_TOKEN"',
    "second-org": '-u "$CLOSE_SECOND_API_KEY:"',
    "none": "",
    "wrong": '-u "wrong-key:"',
}


# -- curl ------------------------------------------------------------------------------------

_SHELL_HELPERS = r"""OUT=$(mktemp -d)
CREATED=()
ELSEWHERE=()  # made with CLOSE_SECOND_API_KEY, as another organisation's
cleanup() {
  local i
  for ((i = ${#CREATED[@]} - 1; i >= 0; i--)); do
    curl -sS -o /dev/null -X DELETE -u "$CLOSE_API_KEY:" "$BASE_URL/${CREATED[i]}" || true
  done
  for ((i = ${#ELSEWHERE[@]} - 1; i >= 0; i--)); do
    curl -sS -o /dev/null -X DELETE -u "$CLOSE_SECOND_API_KEY:" "$BASE_URL/${ELSEWHERE[i]}" \
      || true
  done
  rm -rf "$OUT"
}
trap cleanup EXIT
# call METHOD PATH BODY [CURL ARGS...]: send, print the status and the answer (in $OUT/body);
# a 429 is waited out (Retry-After, else a second) and sent again, up to 5 times
call() {
  local try wait
  for try in 1 2 3 4 5; do
    once "$@"
    [ "$STATUS" = 429 ] || return 0
    wait=$(sed -n 's/^[Rr]etry-[Aa]fter: *\([0-9]*\).*/\1/p' "$OUT/headers" | head -n1)
    sleep "${wait:-1}"
  done
  once "$@"
}
# drive METHOD PATH BODY [CURL ARGS...]: send the same request until the target throttles
# it (a 429), at most 300 times: a rate-limit failure shows on the throttled answer
drive() {
  local n
  for ((n = 0; n < 300; n++)); do
    once "$@"
    [ "$1" != POST ] || created _DRIVEN
    [ "$STATUS" != 429 ] || return 0
  done
}
# once METHOD PATH BODY [CURL ARGS...]: send once, print the status and the answer
once() {
  local method=$1 path=$2 body=$3
  shift 3
  local args=(-sS -o "$OUT/body" -D "$OUT/headers" -w '%{http_code}' -X "$method" "$@")
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
# fixture PATH BODY [elsewhere]: create a lead or template with CLOSE_API_KEY (elsewhere:
# in the second organisation, with CLOSE_SECOND_API_KEY), note it for deletion
fixture() {
  local key=CLOSE_API_KEY
  [ "${3:-}" != elsewhere ] || key=CLOSE_SECOND_API_KEY
  call POST "$1" "$2" -u "${!key}:"
  case $STATUS in 2??) ;; *) echo "could not create $1 (HTTP $STATUS)" >&2; exit 2 ;; esac
  FIXTURE_ID=$(jq -r '.id // empty' "$OUT/body")
  [ -n "$FIXTURE_ID" ] || { echo "POST $1 answered no id" >&2; exit 2; }
  if [ "${3:-}" = elsewhere ]; then
    ELSEWHERE+=("$1$FIXTURE_ID/")
  else
    CREATED+=("$1$FIXTURE_ID/")
  fi
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
    plan = plan_for(steps, rule)
    names = _names(plan, steps, "shell")
    lines = ["#!/usr/bin/env bash"]
    if rule:
        lines.append(f"# Replay of the failure of rule {rule}.")
    variables = _variables(plan, steps)
    needs = "bash 4+, curl, jq" + (", GNU date" if plan.dates else "")
    lines.append("# Set " + ", ".join(variables) + f" in the environment first; needs {needs}.")
    lines.append(
        "# Creates its own lead, contact and template (when used), deletes all it creates."
    )
    if plan.foreign:
        lines.append("# " + FOREIGN_NOTE)
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
        active = _active(plan, names, position)
        if throttled(exchange) and position < len(steps) - 1:
            lines.append(_one_line(f"# Step {position + 1} of {len(steps)}: {THROTTLED_NOTE}"))
            continue
        lines.extend(_shell_fills(plan.fills.get(position, ()), active))
        line = _curl(exchange, active, position, len(steps))
        if throttled(exchange):
            line = line.replace("\ncall ", "\n# " + DRIVE_NOTE + "\ndrive ", 1)
        lines.append(line)
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
        f"ANCHOR=$(date -u -d {shlex.quote(plan.start.isoformat())} +%s)",
        "SHIFT=$(( $(date -u +%s) - ANCHOR ))",
        "# at VALUE [OFFSET]: VALUE moved by SHIFT; a bare date (a day filter) by the days",
        "# between ANCHOR and ANCHOR + SHIFT at OFFSET seconds east of UTC (its x-tz-offset)",
        "at() {",
        "  case $1 in",
        '    ????-??-??) local off=${2:-0}; date -u -d "$1 $(( (ANCHOR + SHIFT + off) / 86400 '
        '- (ANCHOR + off) / 86400 )) days" +%Y-%m-%d ;;',
        '    *) date -u -d "@$(( $(date -u -d "$1" +%s) + SHIFT ))" +%Y-%m-%dT%H:%M:%S+00:00 ;;',
        "  esac",
        "}",
    ]
    for (text, (value, encoded)), name in zip(
        plan.dates.items(), plan.date_names().values(), strict=True
    ):
        hours = plan.day_offsets.get(text)
        extra = "" if hours is None else f" {round(hours * 3600)}"
        moved = f"$(at {shlex.quote(value)}{extra})"
        if encoded:
            moved = f"$(jq -rn --arg v \"{moved}\" '$v|@uri')"
        lines.append(f"{name.upper()}={moved}")
    return lines


def _shell_fills(items: Sequence[dict[str, Any]], names: dict[str, str]) -> list[str]:
    """Make again, as drafts, the SMS the recorded list showed that no step made."""
    if not items:
        return []
    lines = [f"# {FILL_NOTE} ({len(items)})"]
    for item in items:
        body = _shell_word(_json_text(fill_body(item)), names)
        lines.append(f'call POST /activity/sms/ {body} -u "$CLOSE_API_KEY:"; created _FILLED')
    return lines


def _dq(text: str) -> str:
    """``text`` inside double quotes for the shell, nothing expanded."""
    return '"' + re.sub(r'([\\"$`])', r"\\\1", text) + '"'


def _shell_fixtures(plan: Plan) -> list[str]:
    lines: list[str] = []
    for number, (_, contacts) in enumerate(plan.leads, start=1):
        wanted = lead_contacts(len(contacts))
        body = {"name": "NAME", "contacts": wanted}
        text = _json_text(body).replace('"NAME"', '"\'"$NAME"\'"')
        lines.append(f'NAME="sms-conformance $RUN_ID lead {number - 1}"')
        lines.append(f"fixture lead/ '{text}'")
        lines.append(f"LEAD_{number}=$FIXTURE_ID")
        for index in range(len(wanted)):
            variable = contact_name(number, index).upper()
            lines.append(f"{variable}=$(jq -r '.contacts[{index}].id' \"$OUT/body\")")
    for number, _ in enumerate(plan.templates, start=1):
        body = {"name": "NAME", "text": TEMPLATE_TEXT}
        text = _json_text(body).replace('"NAME"', '"\'"$NAME"\'"')
        lines.append('NAME="sms-conformance $RUN_ID template"')
        lines.append(f"fixture sms_template/ '{text}'")
        lines.append(f"TEMPLATE_{number}=$FIXTURE_ID")
    kinds = set(plan.foreign.values())
    if kinds & {"lead_id", "contact_id"}:
        text = _json_text({"name": "NAME", "contacts": FOREIGN_CONTACTS})
        lines.append('NAME="sms-conformance $RUN_ID lead"')
        lines.append(f"fixture lead/ '{text}' elsewhere".replace('"NAME"', '"\'"$NAME"\'"'))
        if "lead_id" in kinds:
            lines.append("FOREIGN_LEAD=$FIXTURE_ID")
        if "contact_id" in kinds:
            lines.append("FOREIGN_CONTACT=$(jq -r '.contacts[0].id' \"$OUT/body\")")
    if "template_id" in kinds:
        text = _json_text({"name": "NAME", "text": TEMPLATE_TEXT})
        lines.append('NAME="sms-conformance $RUN_ID template"')
        lines.append(f"fixture sms_template/ '{text}' elsewhere".replace('"NAME"', '"\'"$NAME"\'"'))
        lines.append("FOREIGN_TEMPLATE=$FIXTURE_ID")
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
    on_headers = ("header", "no-header", "header-shape")
    tests = [_jq_test(p) for p in symptom.predicates if p.op not in ("status", *on_headers)]
    condition = f'[ "$STATUS" = {shlex.quote(str(status))} ]' if status is not None else "true"
    for predicate in (p for p in symptom.predicates if p.op in on_headers):
        condition += " && " + _header_test(predicate)
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


def _header_test(predicate: Any) -> str:
    """A shell test of the last answer's headers (``$OUT/headers``) for ``predicate``."""
    name = predicate.key  # a header name: letters and dashes
    if predicate.op == "no-header":
        return f'! grep -qi {shlex.quote("^" + name + ":")} "$OUT/headers"'
    # The header's value, without its name, the carriage return and (content-type) params.
    value = (
        f'$(grep -i {shlex.quote("^" + name + ":")} "$OUT/headers" | head -n1 | '
        "cut -d: -f2- | tr -d '\\r' | sed 's/^ *//; s/ *$//'"
    )
    if predicate.key == "content-type":
        value += " | cut -d';' -f1 | tr 'A-Z' 'a-z' | sed 's/ *$//'"
    if predicate.op == "header-shape":
        value += " | sed -E 's/[0-9]+(\\.[0-9]+)?/N/g'"
    return f'[ "{value})" = {shlex.quote(str(predicate.value))} ]'


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
        "type": f"({present} and ({key} | type) == {json.dumps(predicate.value)})",
        "not-iso": f'(({key} | type) == "string" and ({key} | test("^[0-9]{{4}}-[0-9]{{2}}-'
        f'[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}") | not))',
    }[predicate.op]
