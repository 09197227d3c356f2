"""The hostile-target matrix (issue 9): a misbehaving fake in front of the reference server,
seeded with a customer's data the run did not create, and the suite invoked as a user would
(``sms-conformance run`` / ``cleanup`` through click's CliRunner).

For every case, whatever the target does:

(a) the command ends with the case's exit code (0 pass, 1 fail, 2 usage, 3 inconclusive),
    without a traceback, and a ``run`` that got going writes its three reports;
(b) the customer's data is byte-for-byte unchanged (every row and its status history), no
    PUT/PATCH/DELETE ever names a customer's id, every SMS the run stores hangs off one of
    its own leads (or a ``--lead-id`` lead), and every SMS put in ``outbox``/``scheduled``
    goes to a recipient the user named (or the fictional defaults);
(c) no credential, in any form (plain, base64 of ``key:``, URL-encoded, ...), appears in any
    file written, in stdout/stderr, in a log record, or in any request the fake saw outside
    the Authorization header to the target's host;
(d) memory stays under ``MEMORY_BOUND_MB`` (peak RSS growth, from /proc: C allocations such
    as zlib's count too), with an address-space limit so a bomb fails the test rather than
    the machine;
(e) wall time stays under the case's bound (and pytest-timeout backs it up);

and what the run created is either gone, or named (by id, or by the run id with the
``cleanup --run-id`` command) in what the command printed or wrote.

``CASES`` is the table the README counts. Each case is: an id naming it, one line saying
what it does, the exit codes that are right, the fake's misbehaviour, and the command.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import resource
import signal
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from click.testing import CliRunner

from conformance.cli import EXIT_FAIL, EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_USAGE, main
from conformance.compat import basic_authorization
from conformance.target import FICTIONAL_RECIPIENTS

from .hostile import (
    BASE_URL,
    HOST,
    Customer,
    Hostile,
    HostileApi,
    RawBytes,
    find_forms,
    hostile_target,
    log_text,
    secret_forms,
    seed_customer,
)

# Credentials with characters URL-encoding changes, so that form is a different string.
KEY = "hostile+key/9f3c1e=A~"
OAUTH = "hostile+oauth/77aa=B"
SECOND = "hostile+second/5b5b=C"
CREDENTIALS = (KEY, OAUTH, SECOND)
FORMS = tuple(sorted({form for secret in CREDENTIALS for form in secret_forms(secret)}))
REPORTS = {"report.json", "junit.xml", "report.html"}
FICTIONAL = set(FICTIONAL_RECIPIENTS)
RECIPIENT = "+15555550123"
MEMORY_BOUND_MB = 200
# A ci run that sends holds more: Hypothesis's own record of its long state-machine examples
# (choice nodes, spans: ~100 MB of ~12,500 requests by tracemalloc on the embedded server,
# without the schema phase); a bomb (BOMB_BYTES) is still well over it.
CI_MEMORY_BOUND_MB = 300
ADDRESS_SPACE_HEADROOM = 3 << 30  # bytes more than at the start: a bomb gets a MemoryError
BOMB_BYTES = 1 << 30  # zeros, gzipped twice: about 12 KB on the wire
QUICK_WALL = 90.0


def _basic(secret: str) -> str:
    return basic_authorization(secret)


def _keys(api: HostileApi) -> dict[str, str]:
    a, b = api.server.orgs[0], api.server.orgs[1]
    return {
        _basic(KEY): _basic(a.api_key),
        _basic(SECOND): _basic(b.api_key),
        f"Bearer {OAUTH}": f"Bearer {a.oauth_token}",
    }


# -- the case context -------------------------------------------------------------------------


@dataclass
class Outcome:
    command: str
    args: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    crash: str | None  # a traceback that escaped the command
    report_dir: Path | None
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def report(self) -> dict[str, Any] | None:
        path = self.report_dir / "report.json" if self.report_dir else None
        if path is None or not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except ValueError:
            return None


@dataclass
class Ctx:
    """What a case's fake and command can reach: the fake, the customer, a stop flag (set
    when the case ends, so a fake that drips or waits gives up), and the commands run."""

    hostile: Hostile
    customer: Customer
    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    stop: threading.Event = field(default_factory=threading.Event)
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    given_leads: set[str] = field(default_factory=set)
    recipients: set[str] = field(default_factory=lambda: set(FICTIONAL))
    allowed_leftovers: set[str] | None = None  # None: anything, if named
    nothing_left: bool = False
    state: dict[str, Any] = field(default_factory=dict)  # for the fakes' own counters

    @property
    def api(self) -> HostileApi:
        return self.hostile.api

    def invoke(self, args: list[str], *, input: str | None = None) -> Outcome:
        """Run ``sms-conformance <args>`` in-process, as a user would from a shell."""
        report_dir = None
        if "--report-dir" in args:
            report_dir = Path(args[args.index("--report-dir") + 1])
        runner = CliRunner()
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        started = time.monotonic()
        crash = None
        try:
            result = runner.invoke(
                main,
                args,
                input=input,
                env={
                    "CLOSE_API_URL": None,
                    "CLOSE_API_KEY": None,
                    "CLOSE_OAUTH_TOKEN": None,
                    "CLOSE_SECOND_API_KEY": None,
                },  # fmt: skip
                catch_exceptions=True,
            )
            exit_code, stdout, stderr = result.exit_code, result.stdout, result.stderr
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                crash = "".join(traceback.format_exception(result.exception))
        except BaseException as error:  # KeyboardInterrupt, RunAborted: escaped the command
            exit_code, stdout, stderr = None, "", ""
            crash = "".join(traceback.format_exception(error))
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        outcome = Outcome(
            args[0], args, exit_code, stdout, stderr, crash, report_dir,
            time.monotonic() - started,
        )  # fmt: skip
        self.outcomes.append(outcome)
        return outcome


def run_args(ctx: Ctx, *extra: str, profile: str = "quick", name: str = "reports") -> list[str]:
    return [
        "run", "--base-url", BASE_URL, "--api-key", KEY, "--oauth-token", OAUTH,
        "--second-api-key", SECOND, "--profile", profile, "--seed", "1",
        "--report-dir", str(ctx.tmp / name), *extra,
    ]  # fmt: skip


def cleanup_args(*extra: str) -> list[str]:
    return ["cleanup", "--base-url", BASE_URL, "--api-key", KEY, *extra]


# -- misbehaviours ----------------------------------------------------------------------------

Fake = Callable[[httpx.Request, Callable[[httpx.Request], httpx.Response]], httpx.Response]


def honest(request: httpx.Request, reference) -> httpx.Response:
    return reference(request)


def _path(request: httpx.Request) -> str:
    return request.url.path.removeprefix("/api/v1/")


def _json_answer(status: int, body: object, headers: dict[str, str] | None = None):
    return httpx.Response(status, json=body, headers=headers or {})


def _respell(right: httpx.Response, body: object) -> httpx.Response:
    headers = {k: v for k, v in right.headers.items()
               if k not in ("content-length", "content-encoding")}  # fmt: skip
    return httpx.Response(right.status_code, content=json.dumps(body).encode(), headers=headers)


def spoil_answer(method: str, path: str | re.Pattern[str], spoil: Callable[[Any, Ctx], Any],
                 *, times: int | None = None) -> Callable[[Ctx], Fake]:  # fmt: skip
    """Forward; then, for ``method path`` answered 2xx, answer ``spoil(body)`` instead."""

    def build(ctx: Ctx) -> Fake:
        count = [0]

        def fake(request, reference):
            right = reference(request)
            matches = (
                re.fullmatch(path, _path(request))
                if isinstance(path, re.Pattern)
                else _path(request) == path
            )
            if request.method == method and matches and right.status_code < 300:
                count[0] += 1
                if times is None or count[0] <= times:
                    return _respell(right, spoil(right.json(), ctx))
            return right

        return fake

    return build


def _without(key: str):
    return lambda body, ctx: {k: v for k, v in body.items() if k != key}


def _second_lead_id_newline(body, ctx):
    ctx.state["leads"] = ctx.state.get("leads", 0) + 1
    if ctx.state["leads"] == 2:
        ctx.state["spoiled_lead"] = body["id"]
        ctx.allowed_leftovers = {body["id"]}
        return {**body, "id": body["id"] + "\n"}
    return body


def _phones_first_without_number(body, ctx):
    data = [dict(n) for n in body.get("data", [])]
    for number in data:
        if number.get("type") == "internal":
            number.pop("number", None)
            break
    return {**body, "data": data}


def another_lead_id(ctx: Ctx) -> Fake:
    """POST /lead/ is answered with the customer's lead (nothing is created)."""

    def fake(request, reference):
        if request.method == "POST" and _path(request) == "lead/":
            get = httpx.Request(
                "GET",
                f"{BASE_URL}/lead/{ctx.customer.sms_lead}/",
                headers={"authorization": request.headers["authorization"]},
            )
            return reference(get)  # fmt: skip
        return reference(request)

    return fake


def spoiled_sms_ids(spoil: Callable[[str, Customer], str]) -> Callable[[Ctx], Fake]:
    """Every SMS id the target hands out is spelled ``spoil(id)``: in create answers, in
    GETs and in lists (nothing is translated back)."""

    def build(ctx: Ctx) -> Fake:
        def respell(item):
            if (
                isinstance(item, dict)
                and isinstance(item.get("id"), str)
                and item["id"] not in ctx.customer.rows
            ):
                return {**item, "id": spoil(item["id"], ctx.customer)}
            return item

        def fake(request, reference):
            right = reference(request)
            if right.status_code >= 300 or "json" not in right.headers.get("content-type", ""):
                return right
            body = right.json()
            if isinstance(body, dict) and isinstance(body.get("data"), list):
                return _respell(right, {**body, "data": [respell(i) for i in body["data"]]})
            return _respell(right, respell(body))

        return fake

    return build


def ignores_lead_filter(ctx: Ctx) -> Fake:
    """GET /activity/sms/?lead_id=X lists every SMS of the organisation."""

    def fake(request, reference):
        if request.method == "GET" and _path(request) == "activity/sms/":
            params = [(k, v) for k, v in request.url.params.multi_items() if k != "lead_id"]
            request = httpx.Request("GET", request.url.copy_with(params=params),
                                    headers=request.headers)  # fmt: skip
        return reference(request)

    return fake


def deletes_fail(request, reference):
    """Every DELETE is answered 500 (nothing deleted): a run that leaves things behind."""
    if request.method == "DELETE":
        return _json_answer(500, {"error": "Internal server error"})
    return reference(request)


def lost_create_with_a_concurrent_customer_sms(ctx: Ctx) -> Fake:
    """The first SMS create is done but its answer lost (a read timeout); just before it, the
    customer created an SMS on the same (--lead-id) lead."""

    def fake(request, reference):
        if request.method == "POST" and _path(request) == "activity/sms/" and not ctx.state:
            ctx.state["lost"] = True
            c = ctx.customer
            body = {
                "status": "draft",
                "lead_id": c.sms_lead,
                "contact_id": c.sms_contact,
                "local_phone": ctx.api.server.orgs[0].internal_numbers[0],
                "remote_phone": "+18183334444",
                "text": "written by a colleague meanwhile",
            }
            ctx.api.as_customer("POST", "activity/sms/", body)  # fmt: skip
            c.note(ctx.api)
            reference(request)
            raise httpx.ReadTimeout("simulated: the answer was lost", request=request)
        return reference(request)

    return fake


def echo_credentials(spell: Callable[[str], str]) -> Callable[[Ctx], Fake]:
    """Every answer echoes the credentials (spelled by ``spell``) in Location and Link; error
    bodies and WWW-Authenticate carry them too; the answers are otherwise right."""

    def build(ctx: Ctx) -> Fake:
        def fake(request, reference):
            right = reference(request)
            echo = " ".join(spell(secret) for secret in CREDENTIALS)
            headers = {k: v for k, v in right.headers.items() if k != "content-length"}
            headers["location"] = f"https://{HOST}/api/v1/activity/sms/?api_key={spell(KEY)}"
            headers["link"] = f'<https://{HOST}/api/v1/lead/?key={spell(KEY)}>; rel="related"'
            headers["x-echo-authorization"] = spell(request.headers.get("authorization", KEY))
            content = right.content
            if right.status_code >= 400:
                if right.status_code == 401:
                    headers["www-authenticate"] = f'Basic realm="api", error="bad key {echo}"'
                try:
                    body = right.json()
                except ValueError:
                    body = None
                if isinstance(body, dict) and isinstance(body.get("error"), str):
                    body["error"] += f" (you sent {echo})"
                    content = json.dumps(body).encode()
            return httpx.Response(right.status_code, content=content, headers=headers)

        return fake

    return build


@cache
def gzip_bomb() -> bytes:
    """BOMB_BYTES of zeros, gzipped, gzipped again (never decompressed here)."""
    inner = zlib.compressobj(1, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 22)
    parts = [inner.compress(block) for _ in range(BOMB_BYTES // len(block))]
    middle = b"".join([*parts, inner.flush()])
    outer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return outer.compress(middle) + outer.flush()


def bomb(request, reference):
    """Streamed raw (``RawBytes``): built from bytes, httpx (and respx) would decode the
    gigabyte inside the fake, before the client saw any of it."""
    right = reference(request)
    if right.status_code >= 300:
        return right
    return httpx.Response(right.status_code, stream=RawBytes(gzip_bomb()), headers={
        "content-type": "application/json", "content-encoding": "gzip, gzip"})  # fmt: skip


def dripped(which: Callable[[httpx.Request], bool], *, every: float = 2.0,
            times: int | None = None) -> Callable[[Ctx], Fake]:  # fmt: skip
    """The right answer to ``which`` requests (done at once), its body sent one byte every
    ``every`` seconds. The drip stops when the case ends, and when the client hangs up (it
    stops pulling)."""

    def build(ctx: Ctx) -> Fake:
        count = [0]

        def fake(request, reference):
            right = reference(request)
            if not which(request):
                return right
            count[0] += 1
            if times is not None and count[0] > times:
                return right
            content = right.content or b"{}"

            def drip() -> Iterator[bytes]:
                for byte in content:
                    if ctx.stop.wait(every):
                        return
                    yield bytes([byte])

            headers = {k: v for k, v in right.headers.items() if k != "content-length"}
            return httpx.Response(right.status_code, content=drip(), headers=headers)

        return fake

    return build


def with_short_timeouts(ctx: Ctx) -> None:
    """The client's timeouts at 2 s (the default is 10) so a drip case stays short; the total
    deadline per request is the client's to derive from it."""
    import conformance.target

    original = conformance.target.remote_target
    ctx.monkeypatch.setattr(conformance.target, "remote_target", partial(original, timeout=2.0))


RATE_LIMITED = {"retry-after": "60", "ratelimit": "limit=100, remaining=0, reset=60"}


def always_429(scope: Callable[[httpx.Request], bool]) -> Callable[[Ctx], Fake]:
    def build(ctx: Ctx) -> Fake:
        def fake(request, reference):
            if scope(request):
                return _json_answer(429, {"error": "Rate limit exceeded."}, RATE_LIMITED)
            return reference(request)

        return fake

    return build


def long_429_burst(ctx: Ctx) -> Fake:
    """The first GET of an SMS by id gets 12 429s in a row (Retry-After 1), then the right
    answer; so does every 10th SMS request after."""

    def fake(request, reference):
        burst = ctx.state.setdefault("burst", 0)
        is_get_one = request.method == "GET" and re.fullmatch(
            r"activity/sms/[^/]+/", _path(request)
        )
        if is_get_one and ("started" not in ctx.state or burst > 0):
            ctx.state["started"] = True
            ctx.state["burst"] = (burst or 13) - 1
            if ctx.state["burst"] > 0:
                headers = {"retry-after": "1", "ratelimit": "limit=100, remaining=0, reset=1"}
                return _json_answer(429, {"error": "Rate limit exceeded."}, headers)
        return reference(request)

    return fake


def first_lead_delete(answer: Callable[[httpx.Request, Ctx], httpx.Response | None],
                      *, times: int = 1) -> Callable[[Ctx], Fake]:  # fmt: skip
    """The first ``times`` DELETEs of the first lead deleted are answered by ``answer``
    (``None``: forwarded)."""

    def build(ctx: Ctx) -> Fake:
        def fake(request, reference):
            if request.method == "DELETE" and re.fullmatch(r"lead/[^/]+/", _path(request)):
                first = ctx.state.setdefault("lead", _path(request))
                hits = ctx.state.get("hits", 0)
                if _path(request) == first and hits < times:
                    ctx.state["hits"] = hits + 1
                    spoiled = answer(request, ctx)
                    if spoiled is not None:
                        return spoiled
            return reference(request)

        return fake

    return build


def _503(request, ctx):
    return _json_answer(503, {"error": "Service Unavailable"})


def _runtime_error(request, ctx):
    ctx.allowed_leftovers = {ctx.state["lead"].split("/")[1]}  # never reached the server
    raise RuntimeError("simulated bug in the transport, inside Target.close")


def _unreachable(request, ctx):
    lead = ctx.state["lead"].split("/")[1]
    ctx.allowed_leftovers = {lead}
    raise httpx.ConnectError("simulated: connection refused", request=request)


def ctrl_c(presses_in_cleanup: int) -> Callable[[Ctx], Fake]:
    """Ctrl-C once during the run (at the 15th SMS request), then ``presses_in_cleanup``
    more during its clean-up (at the first lead DELETE): the CLI's own SIGINT handler is
    called, as the signal would call it, in the thread sending the request."""

    def press() -> None:
        handler = signal.getsignal(signal.SIGINT)
        assert callable(handler)
        handler(signal.SIGINT, None)

    def build(ctx: Ctx) -> Fake:
        def fake(request, reference):
            path = _path(request)
            if path.startswith("activity/sms/"):
                ctx.state["sms"] = ctx.state.get("sms", 0) + 1
                if ctx.state["sms"] == 15:
                    press()
            if (
                request.method == "DELETE"
                and re.fullmatch(r"lead/[^/]+/", path)
                and not ctx.state.get("pressed")
                and ctx.state.get("sms", 0) >= 15
            ):
                ctx.state["pressed"] = True
                for _ in range(presses_in_cleanup):
                    press()
            return reference(request)

        return fake

    return build


def answer_body(method: str, path: str, body: bytes) -> Callable[[Ctx], Fake]:
    def build(ctx: Ctx) -> Fake:
        def fake(request, reference):
            if request.method == method and _path(request) == path:
                return httpx.Response(200, content=body,
                                      headers={"content-type": "application/json"})  # fmt: skip
            return reference(request)

        return fake

    return build


def successful_sms_answers(body: bytes) -> Callable[[Ctx], Fake]:
    def build(ctx: Ctx) -> Fake:
        def fake(request, reference):
            right = reference(request)
            if right.status_code >= 300:
                return right
            return httpx.Response(right.status_code, content=body,
                                  headers={"content-type": "application/json"})  # fmt: skip

        return fake

    return build


def bad_ratelimit_header(request, reference):
    right = reference(request)
    headers = {**right.headers, "ratelimit": "limit=1, remaining=0, reset=1.2.3"}
    return httpx.Response(right.status_code, content=right.content, headers=headers)


MARKUP = "[/] [bold]boom[/bold] [/red] [link=x]"


def markup_in_errors(request, reference):
    right = reference(request)
    if right.status_code >= 400:
        body = right.json() if "json" in right.headers.get("content-type", "") else None
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            return _respell(right, {**body, "error": body["error"] + " " + MARKUP})
    return right


def markup_404_on_own_sms(request, reference):
    """A GET of an SMS the run just created answers 404 whose error text is rich markup: a
    real violation, to be printed (escaped) and reported."""
    right = reference(request)
    is_sms_get = request.method == "GET" and re.fullmatch(r"activity/sms/[^/]+/", _path(request))
    if is_sms_get and right.status_code == 200:
        return _json_answer(404, {"error": f"Not found {MARKUP}"})
    return right


class Unauthenticated300MB:
    """401 answers (to the requests without valid credentials, the schema phase's probes
    included) stream 300 MB; ``pulled`` is how much each had read from it."""

    def __init__(self) -> None:
        self.pulled: list[int] = []

    def __call__(self, ctx: Ctx) -> Fake:
        def fake(request, reference):
            right = reference(request)
            if right.status_code != 401:
                return right
            self.pulled.append(0)
            index = len(self.pulled) - 1

            def chunks() -> Iterator[bytes]:
                yield b'{"error": "'
                for _ in range(300 * 16):
                    self.pulled[index] += 64 * 1024
                    yield b"x" * (64 * 1024)
                yield b'"}'

            ctx.state["huge"] = self
            return httpx.Response(
                401,
                content=chunks(),
                headers={
                    "content-type": "application/json",
                    "www-authenticate": 'Basic realm="api"',
                },
            )

        return fake


# -- the cases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    what: str
    expect: frozenset[int]  # the right exit codes (one, unless the issue allows either)
    fake: Callable[[Ctx], Fake] = lambda ctx: honest
    command: Callable[[Ctx], list[str]] = lambda ctx: run_args(ctx)
    everywhere: bool = False  # the fake answers every path, not only /activity/sms/
    setup: Callable[[Ctx], None] | None = None  # before the command (e.g. an earlier run)
    check: Callable[[Ctx, Outcome], None] | None = None  # the case's own assertions
    nothing_left: bool = False
    input: str | None = None
    wall: float = QUICK_WALL
    slow: bool = False
    memory_mb: int = MEMORY_BOUND_MB


def expect(*codes: int) -> frozenset[int]:
    return frozenset(codes)


def _problem(ctx: Ctx, text: str) -> None:
    ctx.problems.append(text)


def check_run_id_shown(ctx: Ctx, outcome: Outcome) -> None:
    report = outcome.report() or {}
    run_id = report.get("run_id")
    if not run_id:
        _problem(ctx, "(6) report.json has no run_id")
    elif run_id not in outcome.stdout:
        _problem(ctx, f"(6) the run id {run_id} is not printed")


def check_no_failures(ctx: Ctx, outcome: Outcome) -> None:
    report = outcome.report() or {}
    failures = [f.get("rule") for f in report.get("failures", [])]
    if failures:
        _problem(ctx, f"(8) false failures: {failures}")


def check_rule_reported(rule: str, status: str) -> Callable[[Ctx, Outcome], None]:
    """The report holds a failure of ``rule`` (with its replay) and gives it ``status``."""

    def checker(ctx: Ctx, outcome: Outcome) -> None:
        report = outcome.report() or {}
        if rule not in {f.get("rule") for f in report.get("failures", [])}:
            _problem(ctx, f"(a) the report does not name {rule} broken")
        statuses = {r.get("id"): r.get("status") for r in report.get("rules", [])}
        if statuses.get(rule) != status:
            _problem(ctx, f"(a) {rule} is {statuses.get(rule)!r}, expected {status!r}")

    return checker


def check_reason_names(*words: str) -> Callable[[Ctx, Outcome], None]:
    """The report's reason (why the run ended inconclusive) names each of ``words``."""

    def checker(ctx: Ctx, outcome: Outcome) -> None:
        reason = str((outcome.report() or {}).get("reason") or "")
        missing = [word for word in words if word not in reason]
        if missing:
            _problem(ctx, f"(5)(7) the reason does not name {missing}: {reason[:300]!r}")

    return checker


def check_requests(at_most: int, waited_at_most: float) -> Callable[[Ctx, Outcome], None]:
    def checker(ctx: Ctx, outcome: Outcome) -> None:
        if len(ctx.hostile.requests) > at_most:
            _problem(ctx, f"(5) {len(ctx.hostile.requests)} requests, more than {at_most}")
        if sum(ctx.hostile.slept) > waited_at_most:
            _problem(ctx, f"(5) asked to wait {sum(ctx.hostile.slept):.0f} s in all, "
                          f"more than {waited_at_most:.0f} s")  # fmt: skip

    return checker


def check_pulled_bounded(ctx: Ctx, outcome: Outcome) -> None:
    huge = ctx.state.get("huge")
    if huge is not None and max(huge.pulled, default=0) > 10_000_000:
        _problem(ctx, f"(5) a 401 answer was read to {max(huge.pulled)} bytes (bound: 10 MB)")


def check_interrupted(ctx: Ctx, outcome: Outcome) -> None:
    if "interrupt" not in outcome.output.lower():
        _problem(ctx, "(6) the output does not say the run was interrupted")


def check_refused_userinfo(ctx: Ctx, outcome: Outcome) -> None:
    if outcome.exit_code == EXIT_USAGE and "--base-url" not in outcome.output:
        _problem(ctx, "(4) refused the --base-url without naming it")


def leftovers_of_an_earlier_run(ctx: Ctx) -> None:
    """An earlier run whose every DELETE failed: its leads, SMS and template are left (it
    must have said so, with its run id)."""
    saved = ctx.api.sms, ctx.api.everywhere
    ctx.api.sms, ctx.api.everywhere = deletes_fail, True
    try:
        outcome = ctx.invoke(run_args(ctx, name="earlier-run"))
    finally:
        ctx.api.sms, ctx.api.everywhere = saved
    report = outcome.report() or {}
    ctx.state["earlier_run_id"] = report.get("run_id") or ""
    ctx.state["earlier_leftovers"] = leftovers(ctx)
    if not ctx.state["earlier_run_id"]:
        _problem(ctx, "(6) the earlier run's report.json has no run_id: cleanup --run-id cannot "
                      "be given")  # fmt: skip
    if not ctx.state["earlier_leftovers"]:
        _problem(ctx, "setup: the earlier run left nothing (the case tests nothing)")


def cleanup_of_the_earlier_run(*extra: str) -> Callable[[Ctx], list[str]]:
    return lambda ctx: cleanup_args("--run-id", ctx.state.get("earlier_run_id") or "missing",
                                    *extra)  # fmt: skip


def check_earlier_leftovers(gone: bool) -> Callable[[Ctx, Outcome], None]:
    def checker(ctx: Ctx, outcome: Outcome) -> None:
        left = set(leftovers(ctx))
        earlier = set(ctx.state.get("earlier_leftovers", {}))
        if gone and left & earlier:
            _problem(ctx, f"(6) cleanup left the earlier run's {sorted(left & earlier)}")
        if not gone:
            if earlier - left:
                _problem(ctx, f"(1) declined, yet deleted {sorted(earlier - left)}")
            rows = ctx.api.rows()
            leads = [i for i in earlier if i in rows and rows[i][1] == "lead"]
            shown = [i for i in leads if i in outcome.output or
                     json.loads(rows[i][10]).get("name", "\0") in outcome.output]  # fmt: skip
            if leads and len(shown) < len(leads):
                _problem(ctx, "(1) cleanup did not show what it would delete before asking")

    return checker


def check_only_the_spoiled_lead_left(ctx: Ctx, outcome: Outcome) -> None:
    allowed = ctx.allowed_leftovers or set()
    left = {i for i, kind in leftovers(ctx).items() if kind != "sms"}
    if left - allowed:
        _problem(ctx, f"(7) clean-up stopped early: {sorted(left - allowed)} left")


def both(*checks: Callable[[Ctx, Outcome], None]) -> Callable[[Ctx, Outcome], None]:
    def checker(ctx: Ctx, outcome: Outcome) -> None:
        for one in checks:
            one(ctx, outcome)

    return checker


def _with_lead_id(ctx: Ctx, *extra: str) -> list[str]:
    ctx.given_leads.add(ctx.customer.sms_lead)
    return run_args(ctx, "--lead-id", ctx.customer.sms_lead, *extra)


def _allow_send(ctx: Ctx, profile: str = "quick") -> list[str]:
    ctx.recipients = {RECIPIENT}
    return run_args(ctx, "--allow-send", "--recipient", RECIPIENT, profile=profile)


def _userinfo(ctx: Ctx, with_key: bool) -> list[str]:
    args = run_args(ctx)
    args[args.index(BASE_URL)] = f"https://{quote(KEY, safe='')}@{HOST}/api/v1"
    if not with_key:
        index = args.index("--api-key")
        del args[index : index + 2]
    return args


def _is_sms_get(request: httpx.Request) -> bool:
    return request.method == "GET" and _path(request).startswith("activity/sms/")


def _is_cleanup_delete(request: httpx.Request) -> bool:
    return request.method == "DELETE" and bool(re.fullmatch(r"(lead|sms_template)/[^/]+/",
                                                            _path(request)))  # fmt: skip


SMS_PATHS = lambda request: _path(request).startswith("activity/sms/")  # noqa: E731
_huge_401 = Unauthenticated300MB()

CASES: list[Case] = [
    # -- ordinary runs on an account with a customer's data -----------------------------------
    Case("clean-target-with-customer-data",
         "honest target with customer data; quick run passes, leaves nothing, shows its run id",
         expect(EXIT_PASS), nothing_left=True, check=check_run_id_shown),
    Case("lead-id-lead-with-existing-sms",
         "--lead-id names the customer's lead with 50 SMS: no false list failures, lead kept",
         expect(EXIT_PASS), command=_with_lead_id, check=check_no_failures, nothing_left=True),
    # -- 1. the schema phase and foreign SMS ----------------------------------------------------
    Case("schema-phase-foreign-sms-quick",
         "quick profile (schema examples) on an account with 50 foreign SMS: none touched",
         expect(EXIT_PASS), nothing_left=True),
    Case("schema-phase-foreign-sms-ci",
         "ci profile (examples, coverage, fuzzing) with 50 foreign SMS: none deleted or edited",
         expect(EXIT_PASS), command=lambda ctx: run_args(ctx, profile="ci"), nothing_left=True,
         wall=600, slow=True),
    # -- 2. sending ----------------------------------------------------------------------------
    Case("allow-send-only-to-the-recipient",
         "--allow-send --recipient X (quick): every outbox/scheduled SMS ever stored goes to X",
         expect(EXIT_PASS), command=_allow_send, nothing_left=True),
    Case("allow-send-only-to-the-recipient-ci",
         "--allow-send --recipient X (ci, schema phase fuzzing): nothing sent elsewhere",
         expect(EXIT_PASS), command=lambda ctx: _allow_send(ctx, "ci"), nothing_left=True,
         wall=600, slow=True, memory_mb=CI_MEMORY_BOUND_MB),
    # -- 3. clean-up that trusts the server ----------------------------------------------------
    Case("cleanup-run-id-server-ignores-lead-filter",
         "an earlier run left things; cleanup --run-id against a server listing every SMS for "
         "lead_id=X deletes the run's leftovers only",
         expect(EXIT_PASS), everywhere=True, fake=ignores_lead_filter,
         setup=leftovers_of_an_earlier_run, command=cleanup_of_the_earlier_run(),
         check=check_earlier_leftovers(gone=True), wall=2 * QUICK_WALL),
    Case("cleanup-no-run-id-declined",
         "cleanup without --run-id, answering 'n': shows what it would delete, deletes nothing",
         expect(EXIT_PASS, EXIT_FAIL, EXIT_USAGE), setup=leftovers_of_an_earlier_run,
         command=lambda ctx: cleanup_args(), input="n\n",
         check=check_earlier_leftovers(gone=False), wall=2 * QUICK_WALL),
    Case("cleanup-no-run-id-yes-look-alike-leads",
         "cleanup --yes without --run-id: the earlier run's leftovers go, the customer's "
         "'sms-conformance customers list' (and other look-alikes) stay",
         expect(EXIT_PASS), setup=leftovers_of_an_earlier_run,
         command=lambda ctx: cleanup_args("--yes"), check=check_earlier_leftovers(gone=True),
         wall=2 * QUICK_WALL),
    Case("lost-create-answer-on-a-lead-id-lead",
         "--lead-id customer lead; the first create's answer is lost while a colleague adds an "
         "SMS there: the strays search deletes nothing of theirs",
         expect(EXIT_PASS, EXIT_INCONCLUSIVE), fake=lost_create_with_a_concurrent_customer_sms,
         command=_with_lead_id),
    Case("create-lead-answers-another-leads-id",
         "POST /lead/ answers the customer's lead (its id): no SMS on it, it is not deleted",
         expect(EXIT_INCONCLUSIVE), everywhere=True, fake=another_lead_id),
    # -- 4. server-chosen ids --------------------------------------------------------------------
    Case("sms-id-dot-dot-to-a-customer-lead",
         "SMS ids answered as '../../lead/<customer lead>': refused, the lead survives",
         expect(EXIT_INCONCLUSIVE),
         fake=spoiled_sms_ids(lambda i, c: f"../../lead/{c.sms_lead}")),
    Case("sms-id-with-hash", "SMS ids answered as '<id>#x': refused",
         expect(EXIT_INCONCLUSIVE), fake=spoiled_sms_ids(lambda i, c: f"{i}#x")),
    Case("sms-id-with-question-mark", "SMS ids answered as '<id>?lead_id=<customer lead>'",
         expect(EXIT_INCONCLUSIVE),
         fake=spoiled_sms_ids(lambda i, c: f"{i}?lead_id={c.sms_lead}")),
    Case("sms-id-with-newline", "SMS ids answered as '<id>\\n': refused",
         expect(EXIT_INCONCLUSIVE), fake=spoiled_sms_ids(lambda i, c: f"{i}\n")),
    Case("sms-id-with-slash", "SMS ids answered as '<id>/x': refused",
         expect(EXIT_INCONCLUSIVE), fake=spoiled_sms_ids(lambda i, c: f"{i}/x")),
    # -- 5. credentials ------------------------------------------------------------------------
    Case("echo-credentials-plain",
         "every answer echoes the keys and token plainly (error bodies, Location, Link, "
         "WWW-Authenticate): passes, nothing leaks",
         expect(EXIT_PASS), everywhere=True, fake=echo_credentials(lambda s: s)),
    Case("echo-credentials-base64", "the same, echoing base64 of 'key:'",
         expect(EXIT_PASS), everywhere=True,
         fake=echo_credentials(lambda s: _basic(s).split()[-1])),
    Case("echo-credentials-urlencoded", "the same, echoing the URL-encoded keys",
         expect(EXIT_PASS), everywhere=True, fake=echo_credentials(lambda s: quote(s, safe=""))),
    Case("base-url-with-userinfo-and-api-key",
         "--base-url https://KEY@host/api/v1 with --api-key: refused (2) or moved into auth (0)",
         expect(EXIT_PASS, EXIT_USAGE), command=lambda ctx: _userinfo(ctx, True),
         check=check_refused_userinfo),
    Case("base-url-with-userinfo-only",
         "--base-url https://KEY@host/api/v1, no --api-key: refused (2) or moved into auth (0)",
         expect(EXIT_PASS, EXIT_USAGE), command=lambda ctx: _userinfo(ctx, False),
         check=check_refused_userinfo),
    # -- 6. bounds --------------------------------------------------------------------------------
    Case("gzip-bomb-stacked-encodings",
         "successful SMS answers are 12 KB of 'Content-Encoding: gzip, gzip' holding 1 GiB",
         expect(EXIT_INCONCLUSIVE), fake=lambda ctx: bomb,
         check=check_reason_names("activity/sms/", "the bound was hit")),
    Case("unauthenticated-answers-300mb",
         "401 answers (the no-auth and wrong-key requests, schemathesis's probes) stream 300 MB",
         expect(EXIT_INCONCLUSIVE), everywhere=True, fake=_huge_401, check=check_pulled_bounded),
    Case("drip-fed-sms-gets",
         "every GET of /activity/sms/ drips its body 1 byte every 2 s: a deadline ends it",
         expect(EXIT_INCONCLUSIVE), fake=dripped(_is_sms_get), setup=with_short_timeouts,
         check=check_reason_names("missed their deadline"), wall=120, slow=True),
    Case("drip-fed-cleanup-deletes",
         "the first DELETE of each lead and of the template drips (it was done): the clean-up "
         "ends, and nothing is left",
         expect(EXIT_PASS, EXIT_INCONCLUSIVE), everywhere=True, nothing_left=True,
         fake=dripped(_is_cleanup_delete, times=3), setup=with_short_timeouts, wall=120,
         slow=True),
    Case("429-on-every-request",
         "every request answered 429 with Retry-After: 60: few requests, bounded waits",
         expect(EXIT_INCONCLUSIVE), everywhere=True, fake=always_429(lambda r: True),
         check=check_requests(60, 3600)),
    Case("429-on-every-sms-request",
         "every SMS request answered 429 with Retry-After: 60 (fixtures fine)",
         expect(EXIT_INCONCLUSIVE), fake=always_429(SMS_PATHS),
         check=check_requests(400, 3600)),
    Case("429-outlasting-the-waits",
         "a GET by id meets 12 429s in a row: noise, never judged as the answer",
         expect(EXIT_PASS, EXIT_INCONCLUSIVE), fake=long_429_burst, check=check_no_failures),
    # -- 7. clean-up that finishes ------------------------------------------------------------
    Case("503-once-on-a-cleanup-delete",
         "the first DELETE of a lead answers 503: retried, nothing left, pass",
         expect(EXIT_PASS), everywhere=True, fake=first_lead_delete(_503), nothing_left=True),
    Case("exception-in-target-close",
         "the first lead DELETE raises inside the transport: the rest is still deleted",
         expect(EXIT_PASS, EXIT_INCONCLUSIVE), everywhere=True,
         fake=first_lead_delete(_runtime_error), check=check_only_the_spoiled_lead_left),
    Case("cleanup-delete-unreachable",
         "one lead's DELETE never connects: the rest is deleted, that lead named",
         expect(EXIT_PASS, EXIT_INCONCLUSIVE), everywhere=True,
         fake=first_lead_delete(_unreachable, times=1000),
         check=check_only_the_spoiled_lead_left),
    Case("second-ctrl-c-during-cleanup",
         "Ctrl-C during the run, again during clean-up: clean-up finishes, inconclusive",
         expect(EXIT_INCONCLUSIVE), everywhere=True, fake=ctrl_c(1), nothing_left=True,
         check=check_interrupted),
    Case("third-ctrl-c-during-cleanup",
         "Ctrl-C during the run, twice more during clean-up: abandoned, what is left named",
         expect(EXIT_INCONCLUSIVE), everywhere=True, fake=ctrl_c(2), check=check_interrupted),
    # -- 8. hostile answers ---------------------------------------------------------------------
    Case("me-100k-nested-brackets", "GET /me/ answers 100,000 nested '['",
         expect(EXIT_INCONCLUSIVE), everywhere=True,
         fake=answer_body("GET", "me/", b"[" * 100_000)),
    Case("sms-100k-nested-brackets", "successful SMS answers are 100,000 nested '[' (closed: "
         "valid JSON that no recursive parser reads): cannot be judged",
         expect(EXIT_INCONCLUSIVE),
         fake=successful_sms_answers(b"[" * 100_000 + b"]" * 100_000)),
    Case("sms-100k-nested-brackets-unclosed", "successful SMS answers are 100,000 '[' never "
         "closed: too deep to parse (as closed), inconclusive naming the request, no crash",
         expect(EXIT_INCONCLUSIVE), fake=successful_sms_answers(b"[" * 100_000),
         check=check_reason_names("nested deeper", "activity/sms/")),
    Case("ratelimit-reset-1.2.3",
         "every answer carries 'RateLimit: limit=1, remaining=0, reset=1.2.3': a SHOULD "
         "broken, reported as a warning, the run passes",
         expect(EXIT_PASS), everywhere=True, fake=lambda ctx: bad_ratelimit_header,
         check=check_rule_reported("ratelimit/header-format", "warning")),
    Case("ratelimit-reset-1.2.3-strict",
         "the same with --strict: the SHOULD broken fails the run",
         expect(EXIT_FAIL), everywhere=True, fake=lambda ctx: bad_ratelimit_header,
         command=lambda ctx: run_args(ctx, "--strict"),
         check=check_rule_reported("ratelimit/header-format", "fail")),
    Case("error-text-rich-markup-passing",
         "every error text ends in rich markup '[/] [bold]...': printed as text, pass",
         expect(EXIT_PASS), everywhere=True, fake=lambda ctx: markup_in_errors),
    Case("error-text-rich-markup-violation",
         "an own SMS's GET answers 404 with rich markup in the error: reported, fail",
         expect(EXIT_FAIL), fake=lambda ctx: markup_404_on_own_sms),
    Case("lead-answer-without-id", "POST /lead/ answers without 'id'",
         expect(EXIT_INCONCLUSIVE), everywhere=True,
         fake=spoil_answer("POST", "lead/", _without("id"))),
    Case("lead-answer-with-empty-contacts", "POST /lead/ answers 'contacts': []",
         expect(EXIT_INCONCLUSIVE), everywhere=True,
         fake=spoil_answer("POST", "lead/", lambda b, c: {**b, "contacts": []})),
    Case("lead-answer-integer-id", "POST /lead/ answers an integer id",
         expect(EXIT_INCONCLUSIVE), everywhere=True,
         fake=spoil_answer("POST", "lead/", lambda b, c: {**b, "id": 12345})),
    Case("me-organizations-strings", "GET /me/ answers 'organizations': ['x']",
         expect(EXIT_INCONCLUSIVE), everywhere=True,
         fake=spoil_answer("GET", "me/", lambda b, c: {**b, "organizations": ["x"]})),
    Case("phone-number-without-number", "GET /phone_number/ lists an internal number without "
         "'number'", expect(EXIT_INCONCLUSIVE), everywhere=True,
         fake=spoil_answer("GET", "phone_number/", _phones_first_without_number)),
    Case("template-answer-without-id", "POST /sms_template/ answers without 'id'",
         expect(EXIT_INCONCLUSIVE), everywhere=True,
         fake=spoil_answer("POST", "sms_template/", _without("id"))),
    Case("second-lead-id-with-newline",
         "the second POST /lead/ answers an id ending in a newline: the first lead and the "
         "template are still deleted", expect(EXIT_INCONCLUSIVE), everywhere=True,
         fake=spoil_answer("POST", "lead/", _second_lead_id_newline),
         check=check_only_the_spoiled_lead_left),
]  # fmt: skip

assert len({case.id for case in CASES}) == len(CASES)


# -- what every case must show ------------------------------------------------------------------


def leftovers(ctx: Ctx) -> dict[str, str]:
    """Leads, SMS and templates on the target now that are neither the customer's nor
    rows the fake itself put there: id -> kind."""
    rows = ctx.api.rows()
    fake_made = {doc["id"] for _, _, doc, by_fake in ctx.api.stored if by_fake}
    return {
        row_id: row[1]
        for row_id, row in rows.items()
        if row[1] in ("lead", "sms", "sms_template")
        and row_id not in ctx.customer.rows
        and row_id not in fake_made
    }


def _all_texts(ctx: Ctx, caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    texts: dict[str, str] = {}
    for index, outcome in enumerate(ctx.outcomes):
        texts[f"stdout of command {index} ({outcome.command})"] = outcome.stdout
        texts[f"stderr of command {index} ({outcome.command})"] = outcome.stderr
        if outcome.crash:
            texts[f"traceback of command {index}"] = outcome.crash
    for path in sorted(ctx.tmp.rglob("*")):
        if path.is_file():
            texts[f"file {path.relative_to(ctx.tmp)}"] = path.read_bytes().decode(
                "utf-8", errors="replace"
            )
    texts["log records"] = log_text(caplog.records)
    return texts


def _check_leaks(ctx: Ctx, caplog: pytest.LogCaptureFixture) -> None:
    for where, text in _all_texts(ctx, caplog).items():
        found = find_forms(text, FORMS)
        if found:
            _problem(ctx, f"(c) credential in {where}: {found[:3]}")
    for request in ctx.hostile.requests:
        parts = {
            "url": str(request.url),
            "body": request.content.decode("utf-8", errors="replace"),
            **{f"header {k}": v for k, v in request.headers.items() if k != "authorization"},
        }
        for part, text in parts.items():
            found = find_forms(text, FORMS)
            if found:
                _problem(ctx, f"(c) credential in the {part} of {request.method} "
                              f"{request.url.path}: {found[:2]}")  # fmt: skip
        if request.url.host != HOST and "authorization" in request.headers:
            _problem(ctx, f"(c) Authorization sent to {request.url.host}")


def _check_customer(ctx: Ctx) -> None:
    for change in ctx.customer.changes(ctx.api):
        _problem(ctx, f"(b) {change}")
    ids = ctx.customer.ids()
    for request in ctx.hostile.requests:
        if request.method in ("PUT", "PATCH", "DELETE"):
            path = unquote(request.url.raw_path.decode())
            touched = [i for i in ids if i in path and i not in ctx.given_leads]
            touched += [i for i in ctx.given_leads if i in path and request.method == "DELETE"]
            if touched:
                _problem(ctx, f"(b) {request.method} {request.url.path} names the customer's "
                              f"{touched[0]}")  # fmt: skip
    run_leads = {doc["id"] for op, kind, doc, fake in ctx.api.stored
                 if op == "insert" and kind == "lead" and not fake}  # fmt: skip
    own = run_leads | ctx.given_leads
    for op, kind, doc, fake in ctx.api.stored:
        if kind != "sms" or fake:
            continue
        if op == "insert" and doc.get("lead_id") not in own:
            _problem(ctx, f"(b) the run created SMS {doc['id']} on lead {doc.get('lead_id')!r}, "
                          "not one of its own")  # fmt: skip
        if doc.get("status") in ("outbox", "scheduled") and doc.get("remote_phone") not in (
            ctx.recipients
        ):
            _problem(ctx, f"(b)(2) SMS {doc['id']} stored as {doc['status']} to "
                          f"{doc.get('remote_phone')!r}, not a named recipient")  # fmt: skip


def _check_leftovers(ctx: Ctx) -> None:
    left = leftovers(ctx)
    if ctx.nothing_left and left:
        _problem(ctx, f"(6) left on the target: {sorted(left.items())[:6]}")
        return
    if ctx.allowed_leftovers is not None:
        extra = {i for i, kind in left.items() if kind != "sms"} - ctx.allowed_leftovers
        if extra:
            _problem(ctx, f"(6) left on the target: {sorted(extra)[:6]}")
    said = "\n".join(o.output + json.dumps(o.report() or {}) for o in ctx.outcomes)
    rows = ctx.api.rows()
    for row_id, kind in sorted(left.items()):
        row = rows[row_id]
        named = row_id in said
        name = json.loads(row[10]).get("name") or ""
        lead_of_sms = rows.get(row[3]) if kind == "sms" else None
        if lead_of_sms is not None and row[3] in left:
            name = json.loads(lead_of_sms[10]).get("name") or ""
            named = named or row[3] in said
        tag = re.fullmatch(r"sms-conformance (\S+) .*", name)
        tagged = tag is not None and f"--run-id {tag.group(1)}" in said
        if not (named or tagged):
            _problem(ctx, f"(6) {kind} {row_id} ({name!r}) is left and nothing says so")


@contextlib.contextmanager
def memory_bound() -> Iterator[dict[str, float]]:
    """Peak RSS growth in MB over the block (VmHWM reset by /proc/self/clear_refs), with an
    address-space limit a bomb runs into before the machine does."""
    measured: dict[str, float] = {}

    def status(field_name: str) -> int:
        text = Path("/proc/self/status").read_text()
        return int(re.search(rf"{field_name}:\s+(\d+)", text).group(1)) * 1024

    Path("/proc/self/clear_refs").write_text("5")
    base = status("VmRSS")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = status("VmSize") + ADDRESS_SPACE_HEADROOM
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield measured
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        measured["peak_mb"] = (status("VmHWM") - base) / 2**20


def _param(case: Case):
    marks = [pytest.mark.timeout(int(case.wall * 2 + 120))]
    if case.slow:
        marks.append(pytest.mark.slow)
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_hostile_target(case: Case, monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    if case.id.startswith("gzip-bomb"):
        gzip_bomb()  # built before the clock starts (about 2 s, once)
    api = HostileApi(honest, everywhere=case.everywhere)
    api.keys = _keys(api)
    customer = seed_customer(api)
    outcome = None
    memory: dict[str, float] = {}
    ctx = None
    with contextlib.ExitStack() as stack:
        hostile = stack.enter_context(hostile_target(honest, monkeypatch, api=api))
        ctx = Ctx(hostile, customer, tmp_path, monkeypatch, nothing_left=case.nothing_left)
        stack.callback(ctx.stop.set)
        api.sms = case.fake(ctx)
        if case.setup is not None:
            case.setup(ctx)  # an earlier run, say: not what the bounds are about
        with memory_bound() as memory:
            started = len(ctx.outcomes)
            (tmp_path / "cwd").mkdir()
            monkeypatch.chdir(tmp_path / "cwd")  # a file written to the working directory is seen
            outcome = ctx.invoke(case.command(ctx), input=case.input)
            assert len(ctx.outcomes) == started + 1
        ctx.stop.set()
        print(
            f"--- {case.id}: exit {outcome.exit_code} in {outcome.seconds:.1f} s, "
            f"{len(hostile.requests)} requests\n{outcome.output[-3000:]}"
        )
        # (a) the verdict
        if outcome.crash:
            _problem(ctx, f"(a)(7) the command crashed:\n{outcome.crash[-1500:]}")
        if outcome.exit_code not in case.expect:
            report = outcome.report() or {}
            _problem(ctx, f"(a) exit {outcome.exit_code}, expected {sorted(case.expect)}: "
                          f"{report.get('verdict')} - {str(report.get('reason'))[:400]} | "
                          f"{outcome.output[-600:]!r}")  # fmt: skip
        if "Traceback" in outcome.output:
            _problem(ctx, "(7) a traceback in the output")
        if outcome.command == "run" and outcome.exit_code in (0, 1, 3):
            written = (
                {p.name for p in outcome.report_dir.iterdir()}
                if outcome.report_dir.is_dir()
                else set()
            )  # noqa: E501
            if not written >= REPORTS:
                _problem(ctx, f"(7) reports not written: {sorted(REPORTS - written)}")
        for earlier in ctx.outcomes[:-1]:
            if earlier.crash:
                _problem(ctx, f"(7) setup command crashed:\n{earlier.crash[-800:]}")
        # (b) the customer's data, (c) the credentials, leftovers, the case's own
        _check_customer(ctx)
        _check_leaks(ctx, caplog)
        _check_leftovers(ctx)
        if case.check is not None:
            case.check(ctx, outcome)
    # (d) memory, (e) time
    if memory.get("peak_mb", 0) > case.memory_mb:
        _problem(ctx, f"(d) peak memory grew by {memory['peak_mb']:.0f} MB "
                      f"(bound {case.memory_mb} MB)")  # fmt: skip
    if outcome.seconds > case.wall:
        _problem(ctx, f"(e) took {outcome.seconds:.0f} s (bound {case.wall:.0f} s)")
    assert not ctx.problems, f"{case.id}: {case.what}\n" + "\n".join(ctx.problems)


def test_the_case_table_is_whole():
    """The README counts CASES: ids are unique and every case says what it does."""
    assert len(CASES) >= 40
    assert all(case.what and case.expect <= {0, 1, 2, 3} for case in CASES)
    assert EXIT_INCONCLUSIVE == 3 and EXIT_USAGE == 2 and EXIT_FAIL == 1 and EXIT_PASS == 0


def test_the_readme_table_lists_every_case_and_its_count():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### The hostile-target matrix", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([a-z0-9.-]+)` \|", section, flags=re.MULTILINE)
    assert listed == [case.id for case in CASES]
    assert f"{len(CASES)}\ncases" in readme or f"{len(CASES)} cases" in readme
    slow = sum(case.slow for case in CASES)
    assert f"{slow} of them, marked `slow`" in readme


def test_the_harness_sees_a_changed_customer_row_and_every_form_of_a_key():
    """The matrix's own teeth: a customer SMS edited or deleted behind its back is seen, and
    so is each spelling of a credential (URL-encoded with lower-case escapes included)."""
    api = HostileApi(honest)
    try:
        customer = seed_customer(api)
        assert customer.changes(api) == []
        draft = customer.sms_ids[0]  # index 0 is a draft
        api.as_customer("PUT", f"activity/sms/{draft}/", {"text": "Updated text message!"})
        api.as_customer("DELETE", f"activity/sms/{customer.sms_ids[1]}/")
        changes = customer.changes(api)
        assert any(draft in c and "changed" in c for c in changes)
        assert any(customer.sms_ids[1] in c and "deleted" in c for c in changes)
    finally:
        api.close()
    assert find_forms(f"?k={quote(KEY, safe='').lower()}", FORMS)
    assert find_forms(_basic(SECOND).split()[1].rstrip("="), FORMS)
    assert find_forms(f"Bearer {OAUTH}", FORMS)
    assert not find_forms("nothing secret here", FORMS)
