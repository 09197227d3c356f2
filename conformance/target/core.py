"""A server under test: its client, clock and fixtures, and the clean-up of what the run
created.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from conformance.client import (
    ApiClient,
    MalformedAnswer,
    RunAborted,
    TargetUnreachable,
)
from conformance.clock import Clock
from conformance.fixtures import Fixtures
from conformance.model import Timing
from conformance.safety import item_path
from conformance.target.discovery import FixtureDiscovery
from conformance.target.naming import FICTIONAL_RECIPIENTS, OK_DELETE, SMS, new_run_id

if TYPE_CHECKING:
    from conformance.loopback import Loopback


@dataclass(frozen=True, slots=True)
class GivenFixtures:
    """Fixtures named by the user, for targets that restrict the endpoints that make them:
    the run uses these instead of creating leads or a template or listing phone numbers,
    and does not delete them (the run does not own them)."""

    lead_ids: tuple[str, ...] = ()
    local_phones: tuple[str, ...] = ()
    template_id: str | None = None
    # For targets without GET /lead/{id}/ or GET /me/ (a mock of the SMS endpoints only):
    # the contact of each --lead-id, in order, and the user the API key acts as.
    contact_ids: tuple[str, ...] = ()
    user_id: str | None = None


@dataclass
class Target(FixtureDiscovery):
    """A server under test, its clock, credentials and the fixtures found on it.

    ``created`` holds the paths the run created (``lead/lead_abc/``), deleted by
    :meth:`close` in reverse order; ``leftovers`` the paths clean-up could not delete (the
    engine puts them in the report). ``closing`` is True while :meth:`close` runs;
    :meth:`abandon_cleanup` makes it stop (a third Ctrl-C)."""

    name: str
    api: ApiClient
    clock: Clock
    timing: Timing
    embedded: bool
    allow_send: bool
    run_id: str = field(default_factory=new_run_id)
    fixtures: Fixtures | None = None
    created: list[str] = field(default_factory=list)  # fixture paths to DELETE at the end
    server: object | None = None
    recipients: tuple[str, ...] = FICTIONAL_RECIPIENTS  # remote_phone values the run may use
    given: GivenFixtures = field(default_factory=lambda: GivenFixtures())
    leftovers: list[str] = field(default_factory=list)  # paths clean-up could not delete
    closing: bool = False
    # Fixture endpoints the target lacks (answered 404 or 405): "GET /me/" -> 404, and what
    # each fixture the run could not get keeps from being judged: rule id -> why.
    missing: dict[str, int] = field(default_factory=dict)
    lacking: dict[str, str] = field(default_factory=dict)
    # The embedded server served over real TCP (``embedded_target(over_http=True)``):
    # stopped by :meth:`close`. None in-process and on a remote target.
    loopback: Loopback | None = None
    # Another target like this one, for a parallel worker (``run --workers``): the same
    # server (a remote one), or a reference server of its own (embedded); not discovered yet.
    # Given the fixtures the user named for that worker (its share of ``--lead-id``).
    spawn: Callable[[GivenFixtures], Target] | None = field(default=None, repr=False)
    latency: float = 0.0  # seconds the embedded server adds before every answer (--latency)
    _undeleted: list[str] = field(default_factory=list, repr=False)  # SMS DELETEs that failed
    _known: set[str] = field(default_factory=set, repr=False)  # lead and template ids met
    _abandoned: bool = field(default=False, repr=False)

    # What ``embedded`` grants, by meaning; ``embedded`` itself is kept for what is the
    # reference server this process runs as such (its ASGI app in-process, or with
    # ``loopback`` the same app over a loopback socket: nothing else between it and the run).

    @property
    def clock_can_jump(self) -> bool:
        """The run moves the target's clock itself (a virtual one): a wait is instant, an
        example may start at any time of day, every due time may be let pass at once."""
        return self.embedded

    @property
    def data_is_private(self) -> bool:
        """The target holds only what this run made: lists need no scoping to the run's
        leads, no SMS needs pinning to them, no write can reach someone else's data."""
        return self.embedded

    @property
    def sends_nowhere(self) -> bool:
        """An SMS the target sends reaches no phone: any recipient may be addressed and any
        phase may send, whatever ``allow_send`` says."""
        return self.embedded

    @property
    def has_second_org(self) -> bool:
        return bool(self.api.credentials.second_api_key)

    @property
    def has_oauth(self) -> bool:
        return bool(self.api.credentials.oauth_token)

    def delete_sms(self, ids: Iterable[str]) -> list[str]:
        """Delete SMS the run created; return the ids not confirmed deleted. A DELETE that
        fails is tried again by :meth:`close` (and, failing again, listed in ``leftovers``)."""
        kept: list[str] = []
        for sms_id in ids:
            try:
                path = item_path(SMS, sms_id)
            except MalformedAnswer:
                kept.append(sms_id)
                continue  # never usable in a path; it goes with its lead
            try:
                problem = self._delete(path)
            except TargetUnreachable:
                self._undeleted.append(path)
                raise
            if problem is not None:
                self._undeleted.append(path)
                kept.append(sms_id)
        return kept

    def _delete(self, path: str) -> str | None:
        """DELETE ``path``; None when it is gone, else what went wrong."""
        exchange, _ = self.api.send("DELETE", path)
        if exchange.response is None:
            return exchange.error or "no answer"
        if exchange.response.status_code not in OK_DELETE:
            return f"answered {exchange.response.status_code}"
        return None

    def abandon_cleanup(self) -> None:
        """Stop :meth:`close` before its next DELETE (what is not deleted is listed)."""
        self._abandoned = True

    def close(self) -> None:
        """Delete what this run created (SMS whose DELETE failed first, then fixtures in
        reverse order) and close the client. Never raises: a DELETE that fails does not
        stop the others, and every path not deleted ends up in ``leftovers``. A
        ``KeyboardInterrupt`` (a third Ctrl-C) abandons the rest, which is listed too."""
        pending = [*dict.fromkeys(self._undeleted), *reversed(self.created)]
        self._undeleted.clear()
        self.created.clear()
        self.closing = True
        try:
            for index, path in enumerate(pending):
                if self._abandoned:
                    self.leftovers.extend(pending[index:])
                    break
                try:
                    problem = self._delete(path)
                except KeyboardInterrupt:
                    self._abandoned = True
                    self.leftovers.extend(pending[index:])
                    break
                except TargetUnreachable:
                    self.leftovers.extend(pending[index:])  # the target is gone; stop asking
                    break
                except (Exception, RunAborted) as error:  # noqa: BLE001 - one DELETE, not the rest
                    problem = f"{type(error).__name__}: {error}"
                if problem is not None:
                    self.leftovers.append(path)
        finally:
            self.closing = False
            self.api.http.close()
            if self.loopback is not None:
                with contextlib.suppress(RuntimeError):  # never raises; a daemon thread
                    self.loopback.close()
