"""The reference server's shape: no import cycle, modules one can read in a sitting, and
every fault a check site asks about is registered."""

from __future__ import annotations

import ast
from pathlib import Path

from conformance.refserver.faults import FAULTS
from conformance.refserver.race_faults import RACE_FAULTS

PACKAGE = Path(__file__).resolve().parents[2] / "conformance" / "refserver"
MAX_LINES = 400


def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text()) for path in sorted(PACKAGE.glob("*.py"))}


def _imports(tree: ast.Module) -> set[str]:
    """The package's modules ``tree`` imports, anywhere (``TYPE_CHECKING`` blocks and
    function bodies too)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[:2] == ["conformance", "refserver"] and len(parts) > 2:
                found.add(parts[2])
            elif parts == ["conformance", "refserver"]:
                found |= {
                    alias.name for alias in node.names if (PACKAGE / f"{alias.name}.py").exists()
                }
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[:2] == ["conformance", "refserver"] and len(parts) > 2:
                    found.add(parts[2])
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, done = [], set()

    def visit(module: str, path: list[str]) -> None:
        for imported in sorted(graph.get(module, ())):
            if imported in path:
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in done:
                visit(imported, [*path, imported])
        done.add(module)

    for module in sorted(graph):
        visit(module, [module])
    return cycles


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"app": {"server"}, "server": {"app"}}) == [["app", "server", "app"]]


def test_the_reference_servers_modules_import_each_other_without_a_cycle():
    graph = {name: _imports(tree) - {name} for name, tree in _modules().items()}
    assert "services" in graph["app"] and "app" in graph["server"]  # the scan sees imports
    assert _cycles(graph) == []


def test_the_app_and_its_handlers_know_the_services_record_not_the_server():
    modules = _modules()
    for name in ("app", "handlers", "services"):
        assert "server" not in _imports(modules[name]), name


def test_every_reference_server_module_reads_in_one_sitting():
    lengths = {path.name: len(path.read_text().splitlines()) for path in PACKAGE.glob("*.py")}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


def _asked_fault_names(tree: ast.Module) -> list[str]:
    """The names in ``"name" in <...>faults`` and ``<...>faults.any_of("name", ...)``."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant):
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.In | ast.NotIn) and ast.unparse(right).endswith("faults"):
                    names.append(node.left.value)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "any_of"
        ):
            names += [arg.value for arg in node.args if isinstance(arg, ast.Constant)]
    return names


def test_every_fault_a_check_site_asks_about_by_name_is_registered():
    asked = {
        (module, name) for module, tree in _modules().items() for name in _asked_fault_names(tree)
    }
    assert len(asked) > 80  # the scan sees the check sites
    registered = FAULTS.keys() | RACE_FAULTS.keys()  # race variants are kept out of FAULTS
    assert sorted((module, name) for module, name in asked if name not in registered) == []


def test_the_check_site_scan_sees_a_typo():
    tree = ast.parse('if "edit-sent-acepted" in ctx.faults or faults.any_of("x"): pass')
    assert _asked_fault_names(tree) == ["edit-sent-acepted", "x"]
