"""Where the run meets schemathesis: the global ``before_call`` hook hands each case to the
run that owns it, and within :func:`_guarded_sends` every ``requests`` send passes the run's
choke point first."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import requests
import schemathesis

from conformance.safety import SMS
from conformance.schema_phase.limits import _Run

_RUNS: list[_Run] = []


def _run_for(case: Any) -> _Run | None:
    for run in _RUNS:
        if run.owns(case):
            return run
    return None


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """schemathesis dispatches this hook globally: the run that owns ``case`` bends it."""
    run = _run_for(case)
    if run is not None:
        run.prepare(case)


@contextmanager
def _guarded_sends(run: _Run, base_path: str) -> Iterator[None]:
    """Within the block every ``requests`` send (schemathesis's cases, its checks' control
    requests and probes, redirects) passes the guard first, and every answer is observed."""
    send = requests.Session.send

    def guarded_send(session: requests.Session, request: Any, **kwargs: Any) -> Any:
        method = str(request.method or "GET").upper()
        path = _relative_path(str(request.url), base_path)
        run.check(method, path, _request_body(request))
        response = send(session, request, **kwargs)
        if method in ("POST", "GET") and path.startswith(SMS) and response.status_code < 300:
            run.observe(method, path, response.status_code, _answer_body(response))
        return response

    with mock.patch.object(requests.Session, "send", guarded_send):
        yield


def _relative_path(url: str, base_path: str) -> str:
    """The API path of ``url`` (no query) with dot segments resolved (``%2e`` too) and the
    base path removed: the path a server would route."""
    parts = urlsplit(url)
    path = re.sub(r"%2[eE]", ".", parts.path)
    resolved = posixpath.normpath(path) if path else "/"
    if path.endswith("/") and not resolved.endswith("/"):
        resolved += "/"
    if base_path and resolved.startswith(base_path + "/"):
        resolved = resolved[len(base_path) :]
    return resolved.lstrip("/")


def _request_body(request: Any) -> Any:
    """The body of a prepared request as the server would read it: JSON, or a form."""
    body = request.body
    if not body:
        return None
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    try:
        return json.loads(text)
    except ValueError:
        pass
    form = parse_qs(text)
    return {name: values[-1] for name, values in form.items()} if form else None


def _answer_body(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, TypeError):
        return None
