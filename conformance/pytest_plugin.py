"""The pytest plugin: the suite's verdict as one pytest test per catalogue rule.

``pytest --sms-conformance`` runs the engine once (against the embedded reference server, or
``--sms-base-url`` with the credentials in ``CLOSE_API_KEY`` / ``CLOSE_OAUTH_TOKEN`` /
``CLOSE_SECOND_API_KEY``) and turns each rule's status into a test outcome: ``pass`` and
``informational`` pass (observations are attached to the report), ``warning`` (a SHOULD rule
not followed; ``--sms-strict`` fails it) passes with its story attached, ``fail`` fails with the
documented sentence, expected, actual and the ``curl`` replay, ``not-run`` is skipped with its
reason. A first item, ``sms-conformance::run``, runs the suite and passes when the run
judged; an inconclusive run (an unreachable target, refused credentials, a budget spent, a
target the suite cannot set up) is one error there, with the reason and the seed, and every
rule's test is skipped as not judged, not failed 91 times over. The terminal summary names
the seed (and the verdict) so that the run can be repeated with ``--sms-seed``. With
``--sms-report-dir DIR`` the run's ``report.json``, ``junit.xml`` and ``report.html`` are
written there too, as ``sms-conformance run`` writes them. Without
``--sms-conformance`` the plugin adds nothing, so installing the suite never changes another
project's test run. No credential, in any form, is in a test's text or a report file: the
run's report is scrubbed by the engine, and every text the plugin writes is scrubbed again
with the run's secrets.

Like the command line, it is a thin shell over :func:`conformance.engine.run_target`.

For testing your own code against the API, the plugin also gives the ``close_sms_api``
fixture, installed or not ``--sms-conformance``: a fresh :class:`conformance.fake.CloseSmsFake`
per test (no sockets), configured by the test's ``@pytest.mark.close_sms_api(...)`` mark
(the fake's keyword arguments: ``readings``, ``faults``, ``rate_limit``, ...).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

__all__ = ["RuleTest", "close_sms_api"]

_REPORT = pytest.StashKey[Any]()
_SECRETS = pytest.StashKey[Any]()  # the run's Redactor
_REPORT_PATHS = pytest.StashKey[dict[str, Any]]()
_TOLD = pytest.StashKey[bool]()  # an inconclusive run's error was reported
_UNUSABLE = pytest.StashKey[str]()  # why the suite could not use the target at all


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sms-conformance", "Close SMS API conformance")
    group.addoption(
        "--sms-conformance",
        action="store_true",
        help="Check a server against every documented SMS rule: one test per rule.",
    )
    group.addoption(
        "--sms-base-url",
        default=os.environ.get("CLOSE_API_URL"),
        help="Target ending in /api/v1 (env CLOSE_API_URL; default: the embedded server). "
        "Credentials come from CLOSE_API_KEY / CLOSE_OAUTH_TOKEN / CLOSE_SECOND_API_KEY.",
    )
    group.addoption("--sms-profile", default="ci", help="quick, ci or deep (default ci).")
    group.addoption("--sms-seed", type=int, default=0, help="Seed (default 0).")
    group.addoption(
        "--sms-allow-send",
        action="store_true",
        help="Permit outbox/scheduled SMS against a non-embedded target.",
    )
    group.addoption(
        "--sms-strict",
        action="store_true",
        help="A broken SHOULD rule fails its test (default: it passes with a warning).",
    )
    group.addoption("--sms-fault", default=None, help="Embedded server only: one fault on.")
    group.addoption(
        "--sms-workers",
        type=int,
        default=None,
        help="State machines run in parallel threads, as `run --workers` (default 1; under "
        "pytest-xdist, its number of workers: the suite runs once, not once per xdist worker).",
    )
    group.addoption(
        "--sms-report-dir",
        default=None,
        help="Also write report.json, junit.xml and report.html of the run here.",
    )


FAKE_MARK = "close_sms_api"


@pytest.fixture
def close_sms_api(request: pytest.FixtureRequest) -> Any:
    """A fresh fake of the Close SMS API for this test (:class:`conformance.fake.CloseSmsFake`),
    active for the whole test: httpx and requests calls to ``https://api.close.com/api/v1/``
    reach it. ``@pytest.mark.close_sms_api(**kwargs)`` passes keyword arguments to the fake
    (the closest mark wins)."""
    from conformance.fake import CloseSmsFake

    mark = request.node.get_closest_marker(FAKE_MARK)
    if mark is not None and mark.args:
        raise pytest.UsageError(f"@pytest.mark.{FAKE_MARK} takes keyword arguments only")
    with CloseSmsFake(**(mark.kwargs if mark is not None else {})) as fake:
        yield fake


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{FAKE_MARK}(**kwargs): keyword arguments for the {FAKE_MARK} fixture's fake "
        "(readings, faults, rate_limit, transient_share, latency, base_urls, start)",
    )
    if not config.getoption("sms_conformance"):
        return
    from conformance.profiles import PROFILES

    if config.getoption("sms_profile") not in PROFILES:
        raise pytest.UsageError(
            f"--sms-profile must be one of {', '.join(sorted(PROFILES))}, "
            f"got {config.getoption('sms_profile')!r}"
        )


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not config.getoption("sms_conformance"):
        return
    from conformance.catalogue import CATALOGUE

    items.append(RunTest.from_parent(session, name="run", nodeid=RUN_NODE_ID))
    items.extend(
        RuleTest.from_parent(session, name=rule_id, nodeid=f"sms-conformance::{rule_id}")
        for rule_id in CATALOGUE.ids()
    )


RUN_NODE_ID = "sms-conformance::run"


class RuleFailed(Exception):
    """A rule the target broke; its text is the whole story."""


def _judged_report(config: pytest.Config) -> Any:
    """The run's report, when the run judged. An inconclusive run is one error, in the
    first item that asks (``sms-conformance::run`` unless deselected); every later item is
    skipped as not judged."""
    from conformance.target import ConfigurationError

    try:
        report = _report(config)
    except ConfigurationError as error:  # the target lacks what the suite needs
        config.stash[_UNUSABLE] = str(error)
        report = None
    if report is not None and report.verdict != "inconclusive":
        return report
    if not config.stash.get(_TOLD, False):
        config.stash[_TOLD] = True
        scrub = config.stash[_SECRETS].scrub
        if report is None:
            pytest.fail(
                scrub(f"error: {config.stash[_UNUSABLE]}; no rule was judged"), pytrace=False
            )
        pytest.fail(
            scrub(
                f"inconclusive: {report.reason}\n"
                f"target {report.target}, profile {report.profile}, seed {report.seed} "
                f"(repeat with --sms-seed {report.seed}); no rule was judged"
            ),
            pytrace=False,
        )
    pytest.skip(f"not judged: the run was inconclusive (see the error of {RUN_NODE_ID})")


class RunTest(pytest.Item):
    """The run itself: an error when it is inconclusive, a pass when it judged."""

    def setup(self) -> None:
        _judged_report(self.config)

    def runtest(self) -> None:
        pass  # judged in setup: an inconclusive run is an error there, not a failure

    def reportinfo(self) -> tuple[str, None, str]:
        return "sms-conformance", None, "the run"


class RuleTest(pytest.Item):
    """One catalogue rule's verdict, from the run shared by every rule's test."""

    def setup(self) -> None:
        _judged_report(self.config)

    def runtest(self) -> None:
        report = _report(self.config)
        scrub = self.config.stash[_SECRETS].scrub
        result = next(rule for rule in report.rules if rule.id == self.name)
        if result.observations:
            self.add_report_section(
                "call", "observations", scrub("\n".join(str(o) for o in result.observations))
            )
        if result.status == "not-run":
            pytest.skip(result.reason or "not run")
        if result.status == "warning":
            self.add_report_section(
                "call",
                "warning (SHOULD rule not followed)",
                scrub(_failure_text(report, self.name)),
            )
        if result.status == "fail":
            raise RuleFailed(scrub(_failure_text(report, self.name)))

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:  # type: ignore[override]
        if isinstance(excinfo.value, RuleFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, None, str]:
        return "sms-conformance", None, f"rule {self.name}"


def _report(config: pytest.Config) -> Any:
    """Run the suite once per pytest session; every rule's test reads the same report.
    Under pytest-xdist, once for every xdist worker (:func:`_run_once_for_xdist`)."""
    if _UNUSABLE in config.stash:
        from conformance.target import ConfigurationError

        raise ConfigurationError(config.stash[_UNUSABLE])  # said once; not run again
    if _REPORT not in config.stash:
        report, redactor = _run_once_for_xdist(config)
        config.stash[_REPORT], config.stash[_SECRETS] = report, redactor
        directory = config.getoption("sms_report_dir")
        if directory:
            from conformance.reporting import write_reports

            config.stash[_REPORT_PATHS] = write_reports(report, directory, secrets=redactor)
    return config.stash[_REPORT]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = config.stash.get(_REPORT, None)
    if report is not None:
        scrub = config.stash[_SECRETS].scrub
        terminalreporter.write_line(
            scrub(
                f"sms-conformance: {report.verdict} - {report.reason} "
                f"(target {report.target}, profile {report.profile}, seed {report.seed}; "
                f"repeat with --sms-seed {report.seed})"
            )
        )
        from conformance.records import Coverage

        terminalreporter.write_line("sms-conformance " + Coverage.of(report.rules).line())
    paths = config.stash.get(_REPORT_PATHS, None)
    if paths:
        terminalreporter.write_line(
            "sms-conformance reports: " + ", ".join(str(path) for path in paths.values())
        )


def _xdist_workers(config: pytest.Config) -> int | None:
    """How many pytest-xdist workers this session has (None: not under xdist)."""
    workerinput = getattr(config, "workerinput", None)
    if not isinstance(workerinput, dict):
        return None
    count = workerinput.get("workercount")
    return count if isinstance(count, int) and count > 0 else None


def _run_once_for_xdist(config: pytest.Config) -> tuple[Any, Any]:
    """The run, once per test session: under pytest-xdist the first xdist worker to need it
    runs it (with ``--sms-workers``, by default one state machine per xdist worker, in
    threads: :func:`conformance.engine.run_target`'s workers) and leaves it in a file the
    others read, instead of each xdist worker running the whole suite. The file is keyed
    by xdist's ``testrunuid`` (one per session) and held under an exclusive lock."""
    workerinput = getattr(config, "workerinput", None)
    uid = workerinput.get("testrunuid") if isinstance(workerinput, dict) else None
    try:
        import fcntl
    except ImportError:  # no POSIX locks (Windows): each xdist worker runs it
        fcntl = None  # type: ignore[assignment]
    if not uid or fcntl is None:
        return _run(config)
    import pickle
    import tempfile
    from pathlib import Path

    shared = Path(tempfile.gettempdir()) / f"sms-conformance-{uid}"
    shared.mkdir(exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            saved = shared / "run.pickle"
            if saved.exists():
                return pickle.loads(saved.read_bytes())  # noqa: S301 - this session's own
            report, redactor = _run(config)
            saved.write_bytes(pickle.dumps((report, redactor)))
            return report, redactor
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(config: pytest.Config) -> tuple[Any, Any]:
    """Run the engine as the options say; return the report and the run's Redactor."""
    from conformance.client import Credentials
    from conformance.engine import run_target
    from conformance.profiles import PROFILES
    from conformance.redaction import Redactor
    from conformance.target import ConfigurationError, embedded_target, remote_target

    base_url = config.getoption("sms_base_url")
    fault = config.getoption("sms_fault")
    try:
        if base_url:
            if fault:
                raise ConfigurationError("--sms-fault applies to the embedded server only")
            credentials = Credentials(
                os.environ.get("CLOSE_API_KEY"),
                os.environ.get("CLOSE_OAUTH_TOKEN"),
                os.environ.get("CLOSE_SECOND_API_KEY"),
            )
            target = remote_target(
                base_url, credentials, allow_send=config.getoption("sms_allow_send")
            )
        else:
            target = embedded_target(faults=[fault] if fault else [])
    except (ConfigurationError, ValueError) as error:
        raise pytest.UsageError(str(error)) from None
    profile = PROFILES[config.getoption("sms_profile")]
    workers = config.getoption("sms_workers") or _xdist_workers(config) or 1
    redactor = Redactor.from_credentials(target.api.credentials)
    config.stash[_SECRETS] = redactor  # before the run: its errors are scrubbed too
    report = run_target(
        target,
        profile=profile,
        seed_value=config.getoption("sms_seed"),
        strict=config.getoption("sms_strict"),
        workers=workers,
    )
    report.command = redactor.scrub(_rerun_command(config, workers))
    return report, redactor


def _rerun_command(config: pytest.Config, workers: int = 1) -> str:
    """The pytest command that repeats the run (the workers too: a seed gives one run for
    a number of workers); credentials stay in the environment."""
    import shlex

    words = ["pytest", "--sms-conformance"]
    for option in ("sms_base_url", "sms_profile", "sms_seed", "sms_fault"):
        value = config.getoption(option)
        if value is not None:
            words += ["--" + option.replace("_", "-"), str(value)]
    if workers > 1:
        words += ["--sms-workers", str(workers)]
    words += [
        "--" + flag.replace("_", "-")
        for flag in ("sms_allow_send", "sms_strict")
        if config.getoption(flag)
    ]
    return shlex.join(words)


def _failure_text(report: Any, rule_id: str) -> str:
    from conformance.catalogue import CATALOGUE
    from conformance.explain import explain
    from conformance.reporting.replay import curl_commands

    rule = CATALOGUE[rule_id]
    lines = [f"{rule_id}: {rule.statement}", f"documented: {rule.quote!r} ({rule.url})"]
    for failure in report.failures:
        if failure.rule != rule_id:
            continue
        lines += [
            *explain(failure).lines(),
            f"replay ({len(failure.steps)} request(s)):",
            *curl_commands(failure.steps, report.target, rule=rule_id),
        ]
    return "\n".join(lines)
