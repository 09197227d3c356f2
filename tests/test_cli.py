"""The command line: exit codes, reports on disk, clear one-line errors, no secrets."""

from __future__ import annotations

import html
import json
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import click
import httpx
import pytest
from click.testing import CliRunner

from conformance.cli import EXIT_INCONCLUSIVE, EXIT_USAGE, Say, Signals, main, with_progress
from conformance.compat import basic_authorization
from conformance.engine import Event
from conformance.target import embedded_target

from .engine.hostile import BASE_URL, SECRET, hostile_target
from .engine.hostile import assert_no_secret_in as assert_no_hostile_secret_in

SECRETS = ("ref-key-org-a", "ref-key-org-b", "ref-oauth-org-a", "ref-oauth-org-b")


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def assert_no_secret_in(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def test_run_with_no_target_checks_the_embedded_server_and_writes_three_reports(tmp_path):
    result = invoke("run", "--profile", "quick", "--seed", "3", "--report-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "verdict: pass" in result.output
    files = {path.name: path.read_text() for path in tmp_path.iterdir()}
    assert set(files) == {"report.json", "junit.xml", "report.html"}
    report = json.loads(files["report.json"])
    assert (report["verdict"], report["seed"]) == ("pass", 3)
    assert_no_secret_in(result.output, *files.values())
    import xmlschema  # a [test] dependency: missing, the test must fail, not skip

    schema = xmlschema.XMLSchema(Path(__file__).parent / "reporting" / "schemas" / "junit-10.xsd")
    schema.validate(str(tmp_path / "junit.xml"))  # the common JUnit schema (Jenkins's)
    suite = schema.to_dict(str(tmp_path / "junit.xml"))["testsuite"][0]
    assert float(suite["@time"]) == report["stats"]["duration"] > 0


def test_run_against_a_broken_server_exits_1_naming_the_rule(tmp_path):
    result = invoke(
        "run",
        "--profile",
        "quick",
        "--seed",
        "1",
        "--report-dir",
        str(tmp_path),
        "--fault",
        "create-answers-201",
        "--api-key",
        "cli-FAKE-key-0042",
    )
    assert result.exit_code == 1
    assert "FAIL sms/create/answers-200" in result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["failures"][0]["replay"]["curl"]
    assert_no_secret_in(result.output, (tmp_path / "report.html").read_text())
    # The command that repeats the run: every option given, the key by its variable only.
    assert report["command"] == (
        'sms-conformance run --api-key "$CLOSE_API_KEY" --profile quick --seed 1 '
        f"--report-dir {tmp_path} --fault create-answers-201"
    )
    for path in tmp_path.iterdir():
        assert "cli-FAKE-key-0042" not in path.read_text()
    for name in ("report.html", "junit.xml"):
        assert report["command"] in html.unescape((tmp_path / name).read_text())


def test_a_run_without_a_seed_is_repeated_with_the_seed_it_drew():
    from conformance.cli import rerun_command, run

    with click.Context(run) as context:
        context.params = {"seed_value": None}
        assert rerun_command(4242) == "sms-conformance run --seed 4242"


def test_the_fail_line_shows_the_field_that_differs_past_200_characters_of_the_answer(capsys):
    from conformance.cli import summarise
    from conformance.records import RuleResult, RunReport, RunStats

    from .explained import drafts_only_failure

    failure = drafts_only_failure()
    rule = RuleResult(failure.rule, "fail", "MUST", "Only drafts.", "", "")
    report = RunReport("fail", 1, "embedded", "quick", [rule], [failure], RunStats(), "1 rule")
    summarise(Say([]), report, {})
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "FAIL" in line]

    assert "…" in failure.actual and '"status": "sent"' not in failure.actual
    assert line.startswith("  FAIL sms/update/drafts-only: PUT activity/sms/")
    assert 'expected a 4xx rejection; got HTTP 200, status "sent"' in line
    assert 'differs: text expected "", got "0"' in line
    assert 'before: status "sent", text ""' in line
    assert line.endswith("(2 requests to reproduce)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "http://example.test/v2"], "must end in /api/v1"),
        (["--base-url", "ftp://example.test/api/v1", "--api-key", "k"], "http:// or https://"),
        (["--base-url", "http://example.test/api/v1"], "needs --api-key or --oauth-token"),
        (["--fault", "no-such-fault"], "unknown fault"),
        (["--base-url", "http://x.test/api/v1", "--api-key", "k", "--recipient", "555"], "E.164"),
    ],
)
def test_bad_configuration_exits_2_with_one_clear_line(tmp_path, args, message):
    result = CliRunner().invoke(
        main,
        ["run", "--report-dir", str(tmp_path), *args],
        env={"CLOSE_API_KEY": "", "CLOSE_API_URL": ""},
    )
    assert result.exit_code == 2
    assert message in result.output


def test_an_unreachable_target_exits_3(tmp_path):
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when started in the background
    result = invoke(
        "run",
        "--base-url",
        "http://127.0.0.1:9/api/v1",
        "--api-key",
        "secret-key",
        "--profile",
        "quick",
        "--report-dir",
        str(tmp_path),
    )
    assert result.exit_code == 3
    assert "inconclusive" in result.output
    assert re.search(r"\(profile quick, seed \d+, run id [0-9a-f]{12}\)", result.output)
    assert "secret-key" not in result.output
    assert "secret-key" not in (tmp_path / "report.json").read_text()
    assert signal.getsignal(signal.SIGINT) is before  # handlers put back


def test_max_requests_caps_the_embedded_run_which_is_inconclusive_naming_what_it_missed(tmp_path):
    result = invoke(
        "run", "--max-requests", "30", "--profile", "quick", "--report-dir", str(tmp_path)
    )
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    not_run = sum(rule["status"] == "not-run" for rule in report["rules"])
    assert "verdict: inconclusive - the request budget of 30 is spent during " in result.output
    assert f"not reached: the schema phase, the default-limit probe; {not_run} rule(s) not run" in (
        result.output
    )
    assert report["verdict"] == "inconclusive"
    assert report["stats"]["requests"] <= 30 + 10  # the budget, and clean-up's DELETEs


@pytest.mark.slow  # a quick run against the remote fake: ~15-25 s
def test_rules_not_run_for_a_missing_credential_or_a_throttle_name_that_cause(
    tmp_path, monkeypatch
):
    with hostile_target(lambda request, reference: reference(request), monkeypatch):
        result = invoke(
            "run",
            *("--base-url", BASE_URL, "--api-key", SECRET, "--profile", "quick"),
            *("--seed", "1", "--report-dir", str(tmp_path)),
            env={"CLOSE_OAUTH_TOKEN": "", "CLOSE_SECOND_API_KEY": ""},
        )
    assert result.exit_code == 0, result.output
    reasons = {
        rule["id"]: rule["reason"]
        for rule in json.loads((tmp_path / "report.json").read_text())["rules"]
    }
    second_key = (
        "needs --second-api-key (CLOSE_SECOND_API_KEY), the API key of a second organisation: "
        "the isolation rules read one organisation's SMS with the other's key"
    )
    oauth = "needs --oauth-token (CLOSE_OAUTH_TOKEN): no OAuth bearer token was given"
    never_throttled = (
        "the target never throttled the run (no 429 answer), so there was no 429 to judge"
    )
    assert {rule: reasons[rule] for rule in reasons if rule.startswith("isolation/")} == {
        "isolation/get": second_key,
        "isolation/list": second_key,
        "isolation/modify": second_key,
        "isolation/foreign-reference": second_key,
    }
    assert reasons["auth/oauth-bearer"] == oauth
    assert reasons["ratelimit/429-headers"] == never_throttled
    assert reasons["ratelimit/retry-after-matches-reset"] == never_throttled
    isolation = "isolation/get, isolation/list, isolation/modify, isolation/foreign-reference"
    assert f"  NOT RUN {isolation}: {second_key}" in result.output
    assert f"  NOT RUN auth/oauth-bearer: {oauth}" in result.output


def test_credentials_come_from_the_environment(tmp_path):
    result = invoke(
        "run",
        "--profile",
        "quick",
        "--report-dir",
        str(tmp_path),
        env={"CLOSE_API_URL": "http://127.0.0.1:9/api/v1", "CLOSE_API_KEY": "env-key"},
    )
    assert result.exit_code == 3  # it tried the target from the environment
    assert result.output.splitlines()[0] == (
        "sms-conformance: the target comes from CLOSE_API_URL (unset it for the embedded one)"
    )
    assert "checking http://127.0.0.1:9/api/v1" in result.output


def test_a_base_url_given_as_an_option_is_not_said_to_come_from_the_environment(tmp_path):
    result = invoke(
        "run",
        *("--base-url", "http://127.0.0.1:9/api/v1", "--api-key", "k", "--profile", "quick"),
        *("--report-dir", str(tmp_path)),
        env={"CLOSE_API_URL": "http://127.0.0.1:8/api/v1"},
    )
    assert result.exit_code == EXIT_INCONCLUSIVE
    assert "CLOSE_API_URL" not in result.output
    assert "checking http://127.0.0.1:9/api/v1" in result.output


@pytest.mark.parametrize(
    ("command", "variables"),
    [
        ("run", ["CLOSE_API_URL", "CLOSE_API_KEY", "CLOSE_OAUTH_TOKEN", "CLOSE_SECOND_API_KEY"]),
        ("cleanup", ["CLOSE_API_URL", "CLOSE_API_KEY", "CLOSE_OAUTH_TOKEN"]),
    ],
)
def test_help_names_every_environment_variable_the_command_reads(command, variables):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    help_text = " ".join(result.output.split())  # rewrapped
    for variable in variables:
        assert f"[env var: {variable}" in help_text
    if command == "run":
        assert "Set in the environment, CLOSE_API_URL turns every run remote." in help_text
        assert "No other variable of the suite's own" in help_text


@pytest.mark.timeout(600)  # a few self-test runs: about a minute alone, more on a busy machine
def test_self_test_on_chosen_faults_writes_its_kill_matrix(tmp_path):
    result = invoke(
        "self-test",
        "--profile",
        "quick",
        "--seed",
        "1",
        "--jobs",
        "1",
        "--fault",
        "create-answers-201",
        "--fault",
        "send-in-60-accepted",  # reached in every example by steering, under any reading
        "--no-specificity",
        "--report-dir",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "caught_under_other_readings=2" in result.output
    assert "create-answers-201 (seed 1): caught by" in result.output  # a line per run, as it ends
    matrix = json.loads((tmp_path / "selftest.json").read_text())
    assert matrix["summary"]["caught_under_other_readings"] == 2
    assert matrix["summary"]["kill_rate"] == 1.0
    assert matrix["summary"]["false_alarms"] == 0
    assert {kill["fault"] for kill in matrix["kills"]} == {
        "create-answers-201",
        "send-in-60-accepted",
    }


def test_serve_rejects_an_unknown_fault():
    result = CliRunner().invoke(main, ["serve", "--fault", "nope"])
    assert result.exit_code == 2
    assert "unknown fault" in result.output


@pytest.fixture
def busy_port():
    """A port something else is listening on."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--port", "{busy}"], "error: cannot listen on 127.0.0.1:{busy}: ", id="busy-port"
        ),
        pytest.param(
            ["--port", "70000"],
            "error: --port must be 0 to 65535 (0 picks a free one), got 70000",
            id="port-too-high",
        ),
        pytest.param(
            ["--port", "-1"],
            "error: --port must be 0 to 65535 (0 picks a free one), got -1",
            id="negative-port",
        ),
        pytest.param(
            ["--host", "no-such-host.invalid", "--port", "0"],
            "error: cannot listen on no-such-host.invalid:0: unknown host (",
            id="unknown-host",
        ),
        pytest.param(
            ["--host", "999.1.1.1", "--port", "0"],
            "error: cannot listen on 999.1.1.1:0: unknown host (",
            id="bad-address",
        ),
        pytest.param(
            ["--db", "/no-such-directory/sms.sqlite"],
            "error: cannot open the database --db /no-such-directory/sms.sqlite: ",
            id="db-cannot-be-opened",
        ),
    ],
)
def test_serve_that_cannot_start_says_why_in_one_line_and_exits_2(busy_port, args, message):
    args = [arg.format(busy=busy_port) for arg in args]
    result = CliRunner().invoke(main, ["serve", *args])
    assert result.exit_code == EXIT_USAGE, result.output
    (line,) = result.output.splitlines()  # one line: no traceback, no credentials printed
    assert line.startswith(message.format(busy=busy_port))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_on_serve_stops_it_and_exits_0(signum):
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("Reference server: http://127.0.0.1:"), first
        port = int(first.rsplit(":", 1)[1].split("/")[0])
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/me/").status_code == 401  # serving
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert err.splitlines()[-1:] == ["reference server stopped"]
    assert "Traceback" not in err and "Aborted" not in err


@pytest.mark.parametrize("forget", [False, True])
def test_an_interrupt_caught_inside_exec_leaves_the_exit_code_alone_once_forgotten(
    tmp_path, forget
):
    # A Ctrl-C landing while code from a string runs (dataclass set-up, say) is caught by
    # the run, yet `python -m` would still die by SIGINT at exit: the run's exit code lost.
    (tmp_path / "caught_inside_exec.py").write_text(
        "import sys\n"
        "from conformance.cli import forget_a_caught_interrupt\n"
        "try:\n"
        "    exec('raise KeyboardInterrupt')\n"
        "except KeyboardInterrupt:\n"
        "    pass\n"
        f"if {forget}:\n"
        "    forget_a_caught_interrupt()\n"
        "sys.exit(3)\n"
    )
    process = subprocess.run(
        [sys.executable, "-m", "caught_inside_exec"], cwd=tmp_path, capture_output=True
    )
    assert process.returncode == (3 if forget else -signal.SIGINT)


def test_a_base_url_carrying_the_key_is_refused_without_printing_it(tmp_path):
    result = invoke(
        "run", "--base-url", "http://KEY-4242@example.test/api/v1", "--report-dir", str(tmp_path)
    )
    assert result.exit_code == EXIT_USAGE
    assert "must not carry credentials" in result.output
    assert "KEY-4242" not in result.output


@pytest.mark.parametrize(
    ("where", "why"),
    [
        pytest.param("a-file/reports", "Not a directory", id="parent-is-a-file"),
        pytest.param("/proc/sms-conformance-reports", "", id="under-proc"),
        pytest.param("/proc/version/reports", "Not a directory", id="under-a-proc-file"),
    ],
)
def test_an_unwritable_report_dir_is_refused_in_one_line_before_any_request(
    tmp_path, monkeypatch, where, why
):
    if where.startswith("/proc") and not Path("/proc/version").exists():
        pytest.skip("no /proc on this system")
    (tmp_path / "a-file").write_text("")
    report_dir = tmp_path / where  # an absolute `where` stays as it is
    with hostile_target(lambda request, reference: reference(request), monkeypatch) as hostile:
        result = invoke(
            "run", "--base-url", BASE_URL, "--api-key", SECRET, "--report-dir", str(report_dir)
        )
    assert result.exit_code == EXIT_USAGE
    (line,) = result.output.splitlines()  # one line, no traceback
    assert line.startswith(f"error: --report-dir {report_dir} is not a writable directory (")
    assert why in line
    assert hostile.requests == []  # refused before the run sent anything
    assert not report_dir.exists()


def test_target_text_with_rich_markup_is_printed_as_text_not_parsed():
    def job(on_event):
        on_event(Event("round", "expected [/] got [bold]"))
        on_event(Event("violation", "sms/x: the target said [/red] and ref-key-org-a"))
        return "done"

    assert with_progress(Say(["ref-key-org-a"]), job) == "done"  # no MarkupError


def test_say_scrubs_every_form_of_the_credentials(capsys):
    Say([SECRET])(f"error: the target echoed {SECRET} and {BASIC_OF_SECRET}")
    printed = capsys.readouterr().out
    assert "[redacted]" in printed
    assert_no_hostile_secret_in(printed)


BASIC_OF_SECRET = basic_authorization(SECRET)


def spoiling_lead_creates(hostile, monkeypatch, spoil):
    reference = hostile.api.reference

    def answer(request: httpx.Request) -> httpx.Response:
        right = reference(request)
        if request.method == "POST" and request.url.path == "/api/v1/lead/":
            return httpx.Response(right.status_code, json=spoil(right.json()))
        return right

    monkeypatch.setattr(hostile.api, "reference", answer)


def test_a_malformed_fixture_answer_echoing_the_key_exits_3_with_reports_and_no_key(
    tmp_path, monkeypatch
):
    with hostile_target(lambda request, reference: reference(request), monkeypatch) as hostile:
        spoiling_lead_creates(hostile, monkeypatch, lambda body: {**body, "id": f"{SECRET}/.."})
        result = invoke(
            "run", "--base-url", BASE_URL, "--api-key", SECRET, "--report-dir", str(tmp_path)
        )
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert "POST lead/" in result.output
    assert_no_hostile_secret_in(result.output)
    assert {path.name for path in tmp_path.iterdir()} >= {"report.json", "junit.xml"}


def test_what_clean_up_could_not_delete_is_listed_with_the_cleanup_command(tmp_path, monkeypatch):
    with hostile_target(lambda request, reference: reference(request), monkeypatch) as hostile:
        reference = hostile.api.reference

        def leads_stay(request: httpx.Request) -> httpx.Response:
            if request.method == "DELETE" and "/lead/" in request.url.path:
                return httpx.Response(500, json={"error": "try later"})
            return reference(request)

        monkeypatch.setattr(hostile.api, "reference", leads_stay)
        result = invoke(
            "run",
            "--base-url",
            BASE_URL,
            "--api-key",
            SECRET,
            "--max-requests",
            "12",
            "--report-dir",
            str(tmp_path),
        )
    run_id = re.search(r"run id ([0-9a-f]{12})\)", result.output).group(1)
    assert "left on the target (2 item(s)" in result.output, result.output
    assert len(re.findall(r"^  lead/lead_\S+/$", result.output, re.MULTILINE)) == 2
    assert f"sms-conformance cleanup --base-url {BASE_URL} --run-id {run_id}" in result.output


def stub_target(closing: bool = False):
    calls: list[str] = []
    api = SimpleNamespace(interrupt=lambda: calls.append("interrupt"))
    target = SimpleNamespace(
        api=api, closing=closing, abandon_cleanup=lambda: calls.append("abandon")
    )
    return target, calls


def test_a_first_ctrl_c_stops_the_run_a_second_lets_clean_up_finish_a_third_abandons_it(capsys):
    target, calls = stub_target()
    signals = Signals(target, Say([]))
    with pytest.raises(KeyboardInterrupt):
        signals(signal.SIGINT, None)
    target.closing = True
    signals(signal.SIGINT, None)  # returns: clean-up goes on
    assert "clean-up is finishing" in capsys.readouterr().err
    assert "abandon" not in calls
    with pytest.raises(KeyboardInterrupt):
        signals(signal.SIGTERM, None)
    assert calls[-1] == "abandon"
    assert "abandoned" in capsys.readouterr().err


def test_a_first_ctrl_c_during_clean_up_does_not_cut_it_short():
    target, calls = stub_target(closing=True)
    signals = Signals(target, Say([]))
    signals(signal.SIGINT, None)
    assert calls == ["interrupt"]


def test_clean_up_survives_a_second_ctrl_c_and_lists_what_a_third_left(monkeypatch):
    target = embedded_target()
    target.discover()
    first_lead, second_lead, template = target.created
    signals = Signals(target, Say([]))
    with pytest.raises(KeyboardInterrupt):
        signals(signal.SIGINT, None)  # during the run
    send = target.api.send
    deletes: list[str] = []

    def send_with_ctrl_c(method, path, **kwargs):
        if method == "DELETE":
            deletes.append(path)
            signals(signal.SIGINT, None)  # the second goes through; the third raises here
        return send(method, path, **kwargs)

    monkeypatch.setattr(target.api, "send", send_with_ctrl_c)
    target.close()
    assert deletes == [template, second_lead]
    assert target.leftovers == [second_lead, first_lead]


def test_run_help_describes_every_profile():
    from conformance.profiles import PROFILES

    help_text = " ".join(invoke("run", "--help").output.split())
    for name, profile in PROFILES.items():
        assert profile.purpose
        assert f"{name}: {profile.describe()}." in help_text


def test_the_readme_describes_every_profile_as_the_code_defines_it():
    from conformance.profiles import PROFILES

    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    for name, profile in PROFILES.items():
        assert f"- `{name}`: {profile.describe()}." in readme


def test_the_readme_says_how_long_the_test_command_takes_and_gives_the_fast_tier():
    root = Path(__file__).parents[1]
    readme = (root / "README.md").read_text()
    ci_command = (root / ".ci" / "run").read_text().strip().splitlines()[-1]
    test_command = ci_command.split("&& ", 2)[-1]  # `.venv/bin/python -m pytest -n 2`
    assert test_command in readme
    prose = " ".join(readme.split())
    assert "about 32 minutes on CI's two cores with `-n 2`" in prose
    assert f'{test_command} -m "not slow"' in readme
    declared = (root / "pyproject.toml").read_text()
    assert '"slow: ' in declared  # the marker the fast tier leaves out (--strict-markers)


def test_the_summary_says_how_many_rules_were_thinly_judged_and_boundaries_not_reached(capsys):
    from conformance.cli import summarise
    from conformance.records import RuleResult, RunReport, RunStats

    rules = [
        RuleResult("a/b/thin", "pass", "MUST", "", "", "", checked=3, boundaries={"x": 0}),
        RuleResult("a/b/plenty", "pass", "SHOULD", "", "", "", checked=500),
    ]
    report = RunReport("pass", 1, "embedded", "ci", rules, [], RunStats(), "held")
    summarise(Say([]), report, {})
    assert (
        "coverage: 1 of 2 MUST/SHOULD rules judged fewer than 20 times; "
        "1 of 1 listed boundaries not reached"
    ) in capsys.readouterr().out.splitlines()
