"""Shared fixtures: the reference server over real HTTP, on loopback, on a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from conformance.refserver.serve import serve

# Seconds a test marked slow may take (the longest, the self-test on every fault, takes
# about 10 minutes alone); every other test gets pyproject's 2 minutes.
SLOW_TIMEOUT = 1500


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give tests marked slow the longer limit, unless they name their own."""
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


@contextmanager
def served(**options: object) -> Iterator[str]:
    """Run ``serve(port=0, **options)`` on a thread; yield its base URL; stop it after."""
    lines: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=serve, kwargs={"port": 0, "out": lines.append, "stop": stop, **options}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lines, "serve() printed no base URL"
    try:
        yield lines[0].split(": ", 1)[1]
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "serve() did not shut down"


@pytest.fixture
def reference_over_http() -> Callable[..., object]:
    """``with reference_over_http(faults=[...]) as base_url: ...``"""
    return served
