"""The pool of literals Hypothesis mixes into what it draws (its "local constants"), frozen.

Hypothesis biases generation toward literals found in local source. The suite pins that pool
(:func:`conformance.compat.pinned_local_constants`) so that a seed means one run whatever
else is imported; the pool is the suite's own literals (status names, field names, phone
numbers, boundaries: without them, three of the self-test's variants go unseen). Scanned
afresh, though, every short literal added anywhere in the package (an error message, a CLI
word) would change the pool, and with it the run every seed gives: the kill matrix would
shift with unrelated edits. So the pool is frozen in ``constant_pool.json`` and changes
only when regenerated on purpose::

    python -m conformance.constant_pool     # rescan the package, rewrite the files

after which the self-test must be run again (``sms-conformance self-test``).

schemathesis keeps a pool of its own for the schema phase: the literals of the modules of
the app it drives in process (the embedded server's, wrapped by the schema phase, so the
schema phase's modules and those they import: the oracle's among them), at most 256 strings,
the oldest dropped. Any literal added to or moved between those modules would change what a
seed draws there, so that pool is frozen too, in ``app_constant_pool.json``
(:func:`conformance.compat.pinned_app_constants`), and rewritten by the same command.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

from conformance.compat import (
    AppConstants,
    app_constants_of,
    app_constants_pool,
    constants_of_lists,
    constants_of_modules,
)

__all__ = [
    "APP_POOL_FILE",
    "POOL_FILE",
    "app_literals_of_the_suite",
    "app_pool_text",
    "frozen_app_pool",
    "frozen_pool",
    "literals_of_the_suite",
]

POOL_FILE = Path(__file__).with_name("constant_pool.json")
APP_POOL_FILE = Path(__file__).with_name("app_constant_pool.json")


def literals_of_the_suite() -> dict[str, list[Any]]:
    """The literals of every module of ``conformance`` and ``strategies`` today, as plain
    sorted lists (floats by ``repr``, bytes in hex)."""
    import importlib
    import pkgutil

    import conformance
    import strategies

    names: list[str] = []
    for package in (conformance, strategies):
        prefix = package.__name__ + "."
        names += sorted(
            [package.__name__]
            + [info.name for info in pkgutil.walk_packages(package.__path__, prefix)]
        )
    pool = constants_of_modules(importlib.import_module(name) for name in names)
    return {
        "integers": list(pool.integers),
        "floats": [repr(value) for value in pool.floats],
        "bytes": [value.hex() for value in pool.bytes],
        "strings": list(pool.strings),
    }


@functools.cache
def frozen_pool() -> Any:
    """The frozen pool, as the Hypothesis ``Constants`` the pin takes."""
    data = json.loads(POOL_FILE.read_text(encoding="utf-8"))
    return constants_of_lists(
        integers=data["integers"],
        floats=[float(value) for value in data["floats"]],
        bytes_=[bytes.fromhex(value) for value in data["bytes"]],
        strings=data["strings"],
    )


def app_literals_of_the_suite() -> AppConstants:
    """What schemathesis extracts today from the app the schema phase drives in process."""
    import schemathesis

    from conformance.schema_phase import _PacedApp, load_openapi
    from conformance.target import embedded_target

    target = embedded_target()
    server: Any = target.server
    schema: Any = schemathesis.openapi.from_dict(load_openapi())
    schema.app = _PacedApp(server.app, target.clock)
    return app_constants_of(schema)


@functools.cache
def frozen_app_pool() -> Any:
    """The frozen pool of the schema phase's app, as the schemathesis ``ConstantsPool`` the
    pin takes."""
    return app_constants_pool(json.loads(APP_POOL_FILE.read_text(encoding="utf-8")))


def app_pool_text(data: AppConstants) -> str:
    """``data`` as ``app_constant_pool.json`` holds it: JSON, one entry a line, in order."""
    kinds = [
        f"{json.dumps(kind)}: [\n"
        + ",\n".join(json.dumps(entry, ensure_ascii=True) for entry in entries)
        + ("\n]" if entries else "]")
        for kind, entries in data.items()
    ]
    return "{\n" + ",\n".join(kinds) + "\n}\n"


if __name__ == "__main__":
    literals = literals_of_the_suite()
    POOL_FILE.write_text(json.dumps(literals, indent=0, ensure_ascii=True) + "\n", "utf-8")
    sizes = ", ".join(f"{len(values)} {kind}" for kind, values in literals.items())
    print(f"wrote {POOL_FILE} ({sizes})", file=sys.stderr)
    app = app_literals_of_the_suite()
    APP_POOL_FILE.write_text(app_pool_text(app), "utf-8")
    sizes = ", ".join(f"{len(values)} {kind}" for kind, values in app.items())
    print(f"wrote {APP_POOL_FILE} ({sizes}); now run the self-test again", file=sys.stderr)
