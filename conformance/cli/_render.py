"""What ``run`` prints with rich: its progress while it runs, its summary after."""

from __future__ import annotations

from conformance.cli._common import Say

__all__ = ["PLAIN_PROGRESS_EVERY"]


PLAIN_PROGRESS_EVERY = 15.0  # seconds between progress lines when stderr is not a terminal


def with_progress(say: Say, job, *, quiet: bool = False):
    """Run ``job(on_event)`` showing its progress on stderr: a rich status line on a
    terminal; else plain lines (each phase, each violation, progress every
    :data:`PLAIN_PROGRESS_EVERY` seconds); nothing when ``quiet``."""
    import time

    from rich.console import Console

    if quiet:
        return job(lambda event: None)
    console = Console(stderr=True)
    if not console.is_terminal:
        last = [time.monotonic()]

        def plain(event) -> None:
            if event.kind == "progress":
                if time.monotonic() - last[0] < PLAIN_PROGRESS_EVERY:
                    return
                last[0] = time.monotonic()
            label = "violated" if event.kind == "violation" else event.kind
            say(f"[{label}] {' '.join(str(event.detail).split())}", err=True)

        return job(plain)
    with console.status("running", spinner="dots") as status:

        def on_event(event) -> None:
            if event.kind == "violation":
                console.print(f"[red]violated[/red] {say.markup(str(event.detail))}")
            else:
                status.update(say.markup(str(event.detail)))

        return job(on_event)


def summarise(say: Say, report, paths) -> None:
    counts = {status: 0 for status in ("pass", "fail", "warning", "informational", "not-run")}
    statuses = {rule.id: rule.status for rule in report.rules}
    for rule in report.rules:
        counts[rule.status] = counts.get(rule.status, 0) + 1
    say(
        ", ".join(f"{n} {status}" for status, n in counts.items()) + " rules; "
        f"{report.stats.requests} requests in {report.stats.duration:.1f}s"
    )
    from conformance.explain import explain

    for failure in report.failures:
        label = "WARN" if statuses.get(failure.rule) == "warning" else "FAIL"
        say(
            f"  {label} {failure.rule}: {explain(failure).line()}"
            f" ({len(failure.steps)} requests to reproduce)"
        )
    for reason, rules in _not_run_for_a_known_cause(report).items():
        say(f"  NOT RUN {', '.join(rules)}: {reason}")
    from conformance.records import Coverage

    say(Coverage.of(report.rules).line())
    met = [point for point in report.open_points if point.readings]
    if met:
        say("behaviour profile: " + ", ".join(f"{point.id}={point.seen}" for point in met))
    say(f"verdict: {report.verdict} - {report.reason}")
    say("reports: " + ", ".join(str(path) for path in paths.values()))


def _not_run_for_a_known_cause(report) -> dict[str, list[str]]:
    """The not-run rules the user can get run (a credential or flag to give, a target that
    never throttled), grouped by reason."""
    grouped: dict[str, list[str]] = {}
    for rule in report.rules:
        reason = rule.reason or ""
        if rule.status == "not-run" and reason.startswith(("needs ", "the target never")):
            grouped.setdefault(reason, []).append(rule.id)
    return grouped
