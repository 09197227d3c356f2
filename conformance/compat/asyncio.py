"""asyncio's insides the suite relies on: setting the running event loop of a thread (see
:mod:`conformance.compat`).

:class:`conformance.transport.SyncASGITransport` steps an app's coroutine by hand, outside any
``run_until_complete``; while it does, its loop must count as the running one, so that
``asyncio.get_running_loop()``, futures and ``asyncio.Event`` bind to it. asyncio does this
itself with ``asyncio.events._get_running_loop`` and ``_set_running_loop`` (in
``asyncio.events.__all__`` but underscored, and undocumented).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from conformance.compat._upstream import _changed


@contextmanager
def running_loop(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Within the block, ``loop`` is this thread's running loop; the one before (usually
    none) is put back after it. Raises :class:`UpstreamChanged` if asyncio no longer has
    ``asyncio.events._get_running_loop``/``_set_running_loop``."""
    try:
        get, set_ = asyncio.events._get_running_loop, asyncio.events._set_running_loop
    except AttributeError:
        raise _changed(
            "asyncio",
            "asyncio.events no longer has _get_running_loop/_set_running_loop "
            "(setting a thread's running loop)",
        ) from None
    previous = get()
    set_(loop)
    try:
        yield
    finally:
        set_(previous)
