"""Turn a failure's steps into something a person can run again: curl commands or a script.

Both forms send the recorded requests in order against ``RunReport.target``. Neither holds
a credential: each reads it from the environment variable named after the step's ``auth``.
An SMS created by an earlier step gets a new id when replayed, so the id of each earlier
JSON response that a later step uses is bound to a variable (``sms_1`` in Python, ``SMS_1``
in the shell) and the literal id is replaced by that variable in later paths and bodies.

Whatever a recorded step carries (a body the target echoed a key into, a URL with
userinfo), the replay text is scrubbed last by value (``_safety.scrub_text``): given the
run's ``secrets``, no form of any of them is ever in a replay.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from conformance.records import Exchange, Failure
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


@dataclass(frozen=True, slots=True)
class Replay:
    """A failure's steps as ``curl`` command lines and as a self-contained httpx script."""

    curl: list[str]
    python: str


def replay(failure: Failure, target: str, *, secrets: Secrets = None) -> Replay:
    """Return both replay forms of ``failure``'s steps against the base URL ``target``."""
    return Replay(
        curl=curl_commands(failure.steps, target, rule=failure.rule, secrets=secrets),
        python=python_script(failure, target, secrets=secrets),
    )


# -- id rebinding ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Binding:
    value: str  # the id as recorded
    index: int  # 1-based: sms_1, sms_2, ...
    step: int  # the step whose response carries it


def _bindings(steps: Sequence[Exchange]) -> list[_Binding]:
    """Return the ids of earlier responses that later steps use, in order of appearance."""
    found: list[_Binding] = []
    seen: set[str] = set()
    for position, exchange in enumerate(steps):
        response = exchange.response
        if response is None or not isinstance(response.body, dict):
            continue
        value = response.body.get("id")
        if not isinstance(value, str) or not value or value in seen:
            continue
        pattern = _pattern([value])
        later = steps[position + 1 :]
        if any(pattern.search(_searchable(step)) for step in later):
            seen.add(value)
            found.append(_Binding(value, len(found) + 1, position))
    return found


def _searchable(exchange: Exchange) -> str:
    request = exchange.request
    body = "" if request.body is None else _json_text(request.body)
    return f"{request.path}\n{body}"


def _pattern(values: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(value) for value in sorted(values, key=len, reverse=True))
    return re.compile(f"(?<![{_ID_CHARS}])(?:{alternatives})(?![{_ID_CHARS}])")


def _pieces(text: str, names: dict[str, str]) -> list[tuple[bool, str]]:
    """Split ``text`` into ``(is_variable, literal-or-name)`` pieces around bound ids."""
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


def _active(bindings: list[_Binding], step: int, style: str) -> dict[str, str]:
    """Return ``{recorded id: variable name}`` for the ids bound before ``step``."""
    return {b.value: _variable(b, style) for b in bindings if b.step < step}


def _variable(binding: _Binding, style: str) -> str:
    name = f"sms_{binding.index}"
    return name.upper() if style == "shell" else name


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _url(target: str, path: str) -> str:
    if not path:
        return target
    return target.rstrip("/") + "/" + path.lstrip("/")


def _replayed_headers(exchange: Exchange) -> list[tuple[str, str]]:
    return [
        (name, value)
        for name, value in exchange.request.headers.items()
        if name.lower() in _REPLAYED_HEADERS
    ]


# -- curl ------------------------------------------------------------------------------------


def curl_commands(
    steps: Sequence[Exchange], target: str, *, rule: str | None = None, secrets: Secrets = None
) -> list[str]:
    """Return shell lines replaying ``steps`` with curl: leading ``#`` comments, then one
    command per step (continued over lines with backslashes), scrubbed of ``secrets``.

    A step whose response id is used later runs as ``SMS_1=$(curl ... | jq -r .id)``.
    """
    bindings = _bindings(steps)
    lines: list[str] = []
    if rule:
        lines.append(f"# Replay of the failure of rule {rule}.")
    variables = sorted(
        {v for s in steps if (v := CREDENTIAL_VARIABLES.get(s.request.auth)) is not None}
    )
    if variables:
        lines.append("# Set " + ", ".join(variables) + " in the environment first.")
    if bindings:
        lines.append("# jq is needed: the ids created by earlier steps are read with jq -r .id.")
    for position, exchange in enumerate(steps):
        lines.append(_curl(exchange, target, bindings, position))
    return [scrub_text(line, secrets) for line in lines]


def _curl(exchange: Exchange, target: str, bindings: list[_Binding], position: int) -> str:
    request = exchange.request
    names = _active(bindings, position, "shell")
    bound = next((b for b in bindings if b.step == position), None)
    # The status goes after the body; to stderr when stdout feeds jq.
    status = r"\n%{http_code}\n" if bound is None else r"%{stderr}\n%{http_code}\n"
    head = ["curl", "-sS", "-w " + shlex.quote(status)]
    if request.method.upper() != "GET":
        head.append("-X " + shlex.quote(request.method.upper()))
    args = [" ".join(head)]
    auth = _CURL_AUTH.get(request.auth)
    if auth is None:
        args.append(f"# unknown auth {request.auth!r}: no credential sent")
        auth = ""
    if auth:
        args.append(auth)
    for name, value in _replayed_headers(exchange):
        args.append("-H " + shlex.quote(f"{name}: {value}"))
    if request.body is not None:
        args.append("-H 'Content-Type: application/json'")
        args.append("-d " + _shell_word(_json_text(request.body), names))
    args.append(_shell_word(_url(target, request.path), names))
    # A comment cannot sit inside a continued command; hoist it above.
    comments = [a for a in args if a.startswith("#")]
    command = " \\\n  ".join(a for a in args if not a.startswith("#"))
    if bound is not None:
        variable = _variable(bound, "shell")
        command = f"{variable}=$({command} \\\n  | tee /dev/stderr | jq -r .id)"
    return "\n".join([*comments, command])


def _shell_word(text: str, names: dict[str, str]) -> str:
    words = [
        f'"${value}"' if is_variable else shlex.quote(value)
        for is_variable, value in _pieces(text, names)
        if is_variable or value
    ]
    return "".join(words) or "''"


# -- python ----------------------------------------------------------------------------------


_SCRIPT_HEAD = '''#!/usr/bin/env python3
"""{docstring}
"""

from __future__ import annotations

import os

import httpx

BASE_URL = os.environ.get("CLOSE_API_URL", {target}).rstrip("/")


def show(response: httpx.Response) -> None:
    """Print the request line, the response status and the response body."""
    print(response.request.method, response.request.url, "->", response.status_code)
    print(response.text)


def main(client: httpx.Client | None = None) -> None:
    """Send the recorded steps in order; ``client`` defaults to a new ``httpx.Client``."""
    if client is None:
        client = httpx.Client(timeout=30.0)
'''

_SCRIPT_TAIL = """

if __name__ == "__main__":
    main()
"""


def python_script(failure: Failure, target: str, *, secrets: Secrets = None) -> str:
    """Return the source of a Python script (httpx) replaying ``failure``'s steps.

    The script's ``main(client=None)`` sends the steps, printing each status and body; its
    docstring names the rule and the expected and actual behaviour. Credentials come from
    the environment, the base URL from ``CLOSE_API_URL`` or else ``target``; the source is
    scrubbed of ``secrets``.
    """
    steps = failure.steps
    bindings = _bindings(steps)
    variables = sorted(
        {v for s in steps if (v := CREDENTIAL_VARIABLES.get(s.request.auth)) is not None}
    )
    doc = [
        f"Replay of the failure of rule {failure.rule}: {failure.message}",
        "",
        f"Expected: {failure.expected}",
        f"Actual: {failure.actual}",
        "",
        f"Recorded against {target}; set CLOSE_API_URL to replay elsewhere.",
    ]
    if variables:
        doc.append("Reads " + ", ".join(variables) + " from the environment.")
    doc.append("Needs httpx (pip install httpx).")
    source = _SCRIPT_HEAD.format(docstring=_docstring("\n".join(doc)), target=_literal(target))
    body: list[str] = []
    if not steps:
        body.append("    pass  # no steps were recorded")
    for position, exchange in enumerate(steps):
        body.extend(_python_step(exchange, position, len(steps), bindings))
    return scrub_text(source + "\n".join(body) + "\n" + _SCRIPT_TAIL, secrets)


def _docstring(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", escaped)


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text.replace("\t", " ")).split())


def _python_step(
    exchange: Exchange, position: int, total: int, bindings: list[_Binding]
) -> list[str]:
    request = exchange.request
    names = _active(bindings, position, "python")
    recorded = (
        f"recorded {exchange.response.status_code}"
        if exchange.response is not None
        else f"recorded no response: {exchange.error or 'unknown error'}"
    )
    lines = ["    " + _one_line(f"# Step {position + 1} of {total}, {recorded}")]
    path = _python_string(_pieces(request.path, names))
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
    if headers:
        args.append("headers={" + ", ".join(f"{k}: {v}" for k, v in headers) + "}")
    if request.body is not None:
        args.append("json=" + _python_value(request.body, names, 8))
    lines.append("    response = client.request(")
    lines.extend(f"        {arg}," for arg in args)
    lines.append("    )")
    lines.append("    show(response)")
    bound = next((b for b in bindings if b.step == position), None)
    if bound is not None:
        lines.append(f'    {_variable(bound, "python")} = response.json()["id"]')
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
    """Return a Python expression for the JSON ``value``, bound ids replaced by names."""
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
