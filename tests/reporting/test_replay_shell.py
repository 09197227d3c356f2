"""The curl replay run for real by bash against a tiny local HTTP server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conformance.reporting.replay import curl_commands

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "jq")),
    reason="needs bash, curl and jq",
)

NEW_ID = "acti_FROM_SHELL_3"


class _FakeClose(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, dict[str, str], object]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.seen.append((self.command, self.path, dict(self.headers), body))
        payload = json.dumps({"id": NEW_ID, "status": "draft"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _FakeClose.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _FakeClose)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/api/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_curl_replay_runs_the_three_requests_with_the_rebound_id(server, failure):
    script = "set -euo pipefail\n" + "\n".join(curl_commands(failure.steps, server))
    env = {"PATH": os.environ["PATH"], "CLOSE_API_KEY": "k", "CLOSE_OAUTH_TOKEN": "t"}
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30
    )

    assert done.returncode == 0, done.stderr
    assert [(method, path) for method, path, _, _ in _FakeClose.seen] == [
        ("POST", "/api/v1/activity/sms/"),
        ("PUT", f"/api/v1/activity/sms/{NEW_ID}/"),
        ("GET", f"/api/v1/activity/sms/{NEW_ID}/?_fields=id,status"),
    ]
    assert _FakeClose.seen[0][3] == failure.steps[0].request.body
    assert _FakeClose.seen[1][3] == {"status": "scheduled", "note": f"was {NEW_ID}"}
    assert _FakeClose.seen[0][2]["x-tz-offset"] == "+02:00"
    assert _FakeClose.seen[2][2]["Authorization"] == "Bearer t"
