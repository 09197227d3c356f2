"""A CPython 3.11 bug the suite works around: ``ast.parse`` in two threads at once (see
:mod:`conformance.compat`).

CPython 3.11 keeps the recursion depth of its AST-to-Python converter per interpreter, not
per thread, so a thread whose ``ast.parse`` lets another run (a garbage collection calling
a finalizer, rarely) may fail with ``SystemError: AST constructor recursion depth
mismatch`` when that other thread parses too. With parallel workers, a
worker thread may import a module pytest rewrites (``ast.parse``) while another loads
schemathesis, which parses too: seen under pytest, a run ended inconclusive.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_LOCK = threading.Lock()
_USERS = 0  # blocks open at once (several runs in threads may each open one)
_ORIGINAL: Callable[..., Any] | None = None


@contextmanager
def serialised_ast_parse() -> Iterator[None]:
    """Within the block, ``ast.parse`` runs one call at a time, whatever thread calls it;
    the plain function is put back when the last block open ends."""
    global _USERS, _ORIGINAL
    with _LOCK:
        if _USERS == 0:
            _ORIGINAL = original = ast.parse
            parse_lock = threading.RLock()  # a finalizer run in a parse may parse

            def parse(*args: Any, **kwargs: Any) -> Any:
                with parse_lock:
                    return original(*args, **kwargs)

            ast.parse = parse  # type: ignore[assignment]
        _USERS += 1
    try:
        yield
    finally:
        with _LOCK:
            _USERS -= 1
            if _USERS == 0 and _ORIGINAL is not None:
                ast.parse = _ORIGINAL  # type: ignore[assignment]
                _ORIGINAL = None
