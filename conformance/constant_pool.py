"""The pool of literals Hypothesis mixes into what it draws (its "local constants"), frozen.

Hypothesis biases generation toward literals found in local source. The suite pins that pool
(:func:`conformance.compat.pinned_local_constants`) so that a seed means one run whatever
else is imported; the pool is the suite's own literals (status names, field names, phone
numbers, boundaries: without them, three of the self-test's variants go unseen). Scanned
afresh, though, every short literal added anywhere in the package (an error message, a CLI
word) would change the pool, and with it the run every seed gives: the kill matrix would
shift with unrelated edits. So the pool is frozen in ``constant_pool.json`` and changes
only when regenerated on purpose::

    python -m conformance.constant_pool     # rescan the package, rewrite the file

after which the self-test must be run again (``sms-conformance self-test``).

schemathesis keeps a second pool for the schema phase: the literals of the module that
defines an in-process app, and of the modules it imports directly (for the embedded target,
the suite's own wrapper, :class:`conformance.schema_phase.transport._PacedApp`). That pool is
frozen too, in ``schema_constant_pool.json`` (:func:`frozen_app_pool`; pinned by
:func:`conformance.compat.pinned_app_constants`): it holds what schemathesis extracted when the
schema phase was one module (``conformance/schema_phase.py``, before it became a package), in
schemathesis's order, so that splitting or editing modules does not change the schema phase a
seed gives. It is data, not a scan: there is nothing to regenerate it from.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.compat import app_constants_of, constants_of_lists, constants_of_modules

__all__ = ["APP_POOL_FILE", "POOL_FILE", "frozen_app_pool", "frozen_pool", "literals_of_the_suite"]

POOL_FILE = Path(__file__).with_name("constant_pool.json")
APP_POOL_FILE = Path(__file__).with_name("schema_constant_pool.json")


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


@functools.cache
def frozen_app_pool() -> Any:
    """The frozen constants of the embedded app, as the schemathesis ``ConstantsPool`` the
    schema phase's pin takes."""
    data = json.loads(APP_POOL_FILE.read_text(encoding="utf-8"))
    decode: dict[str, Callable[[Any], Any]] = {
        "string": str,
        "integer": int,
        "float": float,
        "bytes": bytes.fromhex,
    }
    return app_constants_of(
        {kind: [(decode[kind](value), modules) for value, modules in data[kind]] for kind in data}
    )


if __name__ == "__main__":
    literals = literals_of_the_suite()
    POOL_FILE.write_text(json.dumps(literals, indent=0, ensure_ascii=True) + "\n", "utf-8")
    sizes = ", ".join(f"{len(values)} {kind}" for kind, values in literals.items())
    print(f"wrote {POOL_FILE} ({sizes}); now run the self-test again", file=sys.stderr)
