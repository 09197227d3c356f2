"""What every private touch shares: the versions the suite was written against, and the
error an upgrade that moved something raises.
"""

from __future__ import annotations

#: What the suite was written against. An error that says an upgrade moved something names it.
#: asyncio is the standard library's: its version is Python's.
WRITTEN_AGAINST = {
    "hypothesis": "6.170",
    "schemathesis": "4.32",
    "httpx": "0.29",
    "asyncio": "3.11",
}


class UpstreamChanged(RuntimeError):
    """A private name of Hypothesis, schemathesis or httpx that the suite relies on has moved
    or changed shape. The message names the symbol, the installed version and the version
    the suite was written against. To fix it, adapt :mod:`conformance.compat`; its canaries
    are in ``tests/test_compat.py``."""


def _changed(package: str, what: str) -> UpstreamChanged:
    try:
        import platform
        from importlib.metadata import version

        installed = platform.python_version() if package == "asyncio" else version(package)
    except Exception:  # noqa: BLE001 - the version is only for the message
        installed = "unknown"
    return UpstreamChanged(
        f"{package} {installed}: {what} (the suite was written against "
        f"{package} {WRITTEN_AGAINST[package]}; adapt conformance/compat/, whose canaries "
        "are in tests/test_compat.py)"
    )
