"""Making a target: the reference server in-process (or over loopback HTTP), or a remote
base URL over real HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from conformance.client import (
    ApiClient,
    Credentials,
)
from conformance.clock import SystemClock, VirtualClock
from conformance.model import Timing
from conformance.safety import Guard
from conformance.target.core import GivenFixtures, Target
from conformance.target.errors import ConfigurationError
from conformance.target.naming import (
    DEFAULT_MAX_SECONDS,
    EMBEDDED_ID_SEED,
    EMBEDDED_RATE_LIMIT,
    FICTIONAL_RECIPIENTS,
)
from conformance.vocabulary import E164


def _authority(url: str) -> str:
    """The ``user@host:port`` part of a URL (with or without a scheme)."""
    match = re.match(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?://)?([^/?#]*)", url.strip())
    return match.group(1) if match else ""


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
    latency: float = 0.0,
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
    run's, sends reach nobody). :meth:`Target.close` stops the server. ``latency`` adds
    that many real seconds before every answer (as ``serve --latency``), for measuring a
    run against a distant server.

    :attr:`Target.spawn` makes another such target, with a reference server (and a virtual
    clock) of its own, for a parallel worker: see :func:`conformance.engine.run_target`."""
    faults = tuple(faults)
    arguments = dict(
        faults=faults,
        readings=readings,
        transient_share=transient_share,
        max_requests=max_requests,
        max_seconds=max_seconds,
        sms_only=sms_only,
        over_http=over_http,
        latency=latency,
    )
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
    _seed_the_other_organisation(server)
    label = [f"fault: {', '.join(faults)}"] if faults else []
    label += [f"reading {p}={a}" for p, a in sorted(server.readings.chosen.items())]
    org, other = server.orgs[0], server.orgs[1]
    app: Any = server.app
    if transient_share or latency:
        from conformance.refserver.noise import Noise

        app = Noise(app, transient_share=transient_share, latency=latency, seed=EMBEDDED_ID_SEED)
        if transient_share:
            label.append(f"{transient_share:.0%} transient noise")
        if latency:
            label.append(f"{latency * 1000:g} ms latency")
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
        latency=latency,
        spawn=lambda worker_given: embedded_target(**arguments, given=worker_given),  # type: ignore[arg-type]
    )


def _seed_the_other_organisation(server: Any) -> None:
    """Give the second organisation a lead with a contact and a template, so that a run can
    name another organisation's objects (its internal numbers it has from the start)."""
    with server.client(1) as other:
        other.post(
            "lead/",
            json={
                "name": "another organisation's lead",
                "contacts": [
                    {"name": "Bea Other", "phones": [{"type": "mobile", "phone": "+12015550199"}]}
                ],
            },
        ).raise_for_status()
        other.post(
            "sms_template/",
            json={"name": "another organisation's template", "text": "Hi {{ contact.first_name }}"},
        ).raise_for_status()


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

    def spawn(worker_given: GivenFixtures) -> Target:
        """The same server, with a client of its own, for another worker of this run."""
        sibling = remote_target(
            base_url,
            credentials,
            allow_send=allow_send,
            timing=timing,
            timeout=timeout,
            max_requests=max_requests,
            max_seconds=max_seconds,
            recipients=recipients,
            given=worker_given,
        )
        sibling.run_id = target.run_id  # one run: `cleanup --run-id` finds every worker's
        return sibling

    target = Target(
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
        spawn=spawn,
    )
    return target


def realtime_target(
    *,
    faults: Iterable[str] = (),
    readings: Mapping[str, str] | None = None,
    grace: float = 5.0,
    max_requests: int | None = None,
) -> Target:
    """Return a target at a reference server on real time, served on a loopback port and
    run as any remote server is (``allow_send``, the lists scoped to the run's leads, the
    timing ledger; nothing jumps the clock): what ``sms-conformance serve`` and ``run
    --base-url ... --allow-send`` do, in one process, for the self-test's timing variants.
    ``grace`` is the run's ``--grace`` (its sender runs on every request)."""
    from conformance.loopback import Loopback
    from conformance.refserver import ReferenceServer

    server = ReferenceServer(clock=SystemClock(), faults=tuple(faults), readings=readings)
    _seed_the_other_organisation(server)
    org, other = server.orgs[0], server.orgs[1]
    loopback = Loopback(server.app)
    target = remote_target(
        loopback.base_url + "/api/v1",
        Credentials(org.api_key, org.oauth_token, other.api_key),
        allow_send=True,
        timing=Timing(early=2.0, grace=grace),
        max_requests=max_requests,
        max_seconds=None,
    )
    label = [f"fault: {', '.join(faults)}"] if faults else []
    label += [f"reading {p}={a}" for p, a in sorted(server.readings.chosen.items())]
    target.name = "reference server on real time" + (f" ({'; '.join(label)})" if label else "")
    target.loopback, target.server = loopback, server
    return target
