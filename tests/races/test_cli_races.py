"""``sms-conformance races``: the clean embedded server's histories are all explained (exit
0); a race variant is caught and shown shrunk as a timeline (exit 1); bad input exits 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from conformance.cli import EXIT_FAIL, EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_USAGE, main


def test_the_clean_server_explains_every_history():
    result = CliRunner().invoke(main, ["races", "--histories", "3", "--seed", "1"])
    assert result.exit_code == EXIT_PASS, result.output
    assert result.output.startswith("races: pass (3 histories on seed 1")


def test_an_unknown_fault_is_a_usage_error_naming_the_known_ones():
    result = CliRunner().invoke(main, ["races", "--fault", "race-nope"])
    assert result.exit_code == EXIT_USAGE, result.output
    assert "race-lost-update" in result.output


@pytest.mark.slow
def test_a_lost_update_is_caught_and_shown_as_a_timeline():
    result = CliRunner().invoke(main, ["races", "--fault", "race-lost-update", "--seed", "1"])
    assert result.exit_code == EXIT_FAIL, result.output
    assert result.output.startswith("races: fail")
    assert "branch 1" in result.output  # the timeline's columns


@pytest.mark.slow
def test_the_race_self_test_passes_the_clean_server_and_catches_every_race_variant():
    from conformance.refserver.race_faults import RACE_FAULTS

    result = CliRunner().invoke(main, ["races", "--self-test", "--seed", "1"])
    assert result.exit_code == EXIT_PASS, result.output
    assert "clean server" in result.output
    for fault in RACE_FAULTS:
        assert f"{fault} " in result.output


def test_races_over_loopback_http_catch_a_race_variant():
    result = CliRunner().invoke(
        main, ["races", "--over-http", "--fault", "race-lost-update", "--histories", "30"]
    )
    assert result.exit_code == EXIT_FAIL, result.output
    assert result.output.startswith("races: fail")


def test_base_url_with_an_embedded_only_option_is_a_usage_error():
    for extra in (["--self-test"], ["--fault", "race-lost-update"], ["--over-http"]):
        result = CliRunner().invoke(
            main, ["races", "--base-url", "http://127.0.0.1:9/api/v1", "--api-key", "k", *extra]
        )
        assert result.exit_code == EXIT_USAGE, result.output
        assert "embedded server" in result.output


def test_races_against_an_unreachable_live_target_are_inconclusive_without_a_traceback():
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = CliRunner().invoke(
        main, ["races", "--base-url", f"http://127.0.0.1:{port}/api/v1", "--api-key", "k"]
    )
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert "races: inconclusive" in result.output and "Traceback" not in result.output


def test_races_against_a_live_target_without_allow_send_run_drafts_only(reference_over_http):
    with reference_over_http() as base_url:
        result = CliRunner().invoke(
            main,
            ["races", "--base-url", base_url, "--api-key", "ref-key-org-a", "--histories", "5"],
        )
    assert result.exit_code == EXIT_PASS, result.output
    assert "races: 5 of 5 histories run (drafts only: no --allow-send)" in result.output
    assert "every one explained" in result.output
