"""Dependencies point one way: an app imports lib/ and the apps below it, never one
above it, and no app imports reports (only the commands and URL map on top do); no
two modules import each other. See docs/architecture.md.

Every import in src/groundswell counts, including those inside functions and under
TYPE_CHECKING: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import groundswell

SRC = Path(groundswell.__file__).resolve().parent

# Lowest first. An app may import lib and the apps before it in this list.
LAYERS = [
    # Rate limits' counts, for any app's forms that send email (knows no other app).
    "limits",
    "orgs",
    "members",
    "petitions",
    "mailings",
    "tracking",
    "bounces",
    "reports",
    "workspace",
]
# Parts that may use only lib: the local mail catcher knows nothing of our models.
LIB_ONLY = {"lib", "mailbox"}
# Parts above every app, which wire them together: they may import any of them.
TOP = {
    "benchsupport",
    "demo",
    "management",
    "cli",
    "settings",
    # settings.py's sections in modules of their own (imported by settings.py alone).
    "settings_sections",
    "urls",
    "wsgi",
    "apps",
    "tasks",
    # `groundswell worker`'s loop: runs any app's tasks (docs/operations.md).
    "taskworker",
    "__init__",
    # Health, metrics, backups and retention read every app's tables (docs/operations.md).
    "operations",
}
# Imports that break the rule today, each with the reason it is still here.
ALLOWED: set[tuple[str, str]] = set()


# Modules that import each other today, and why.
ALLOWED_CYCLES = [
    # The send actions queue lanes and scheduled starts on commit (importing tasks inside
    # functions); the tasks call the send and A/B actions, and choosing a winner restarts
    # the lanes through the send actions.
    {
        "groundswell.mailings.actions.ab",
        "groundswell.mailings.actions.send",
        "groundswell.mailings.tasks",
    },
    # Starting a people import queues its task on commit (imported inside the function);
    # the task runs the import action.
    {"groundswell.workspace.actions.imports", "groundswell.workspace.tasks"},
]


def part_of(relative: Path) -> str:
    first = relative.parts[0]
    return first.removesuffix(".py")


def imported_parts(tree: ast.AST, module: str) -> set[str]:
    """The parts of groundswell this module imports, by absolute or relative import."""
    return {
        name.split(".")[1]
        for name in imported_names(tree, module)
        if name.startswith("groundswell.") and len(name.split(".")) > 1
    }


def imported_names(tree: ast.AST, module: str) -> set[str]:
    """Every dotted name this module imports (for `from a import b`: a and a.b)."""
    package = module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names = [str(node.args[0].value)]
        found.update(names)
    return found


def module_name(relative: Path) -> str:
    name = "groundswell." + ".".join(relative.with_suffix("").parts)
    return name.removesuffix(".__init__")


def import_cycles(root: Path) -> list[set[str]]:
    """Groups of our modules that import each other, directly or round a loop."""
    paths = {
        module_name(p.relative_to(root)): p
        for p in root.rglob("*.py")
        if "migrations" not in p.relative_to(root).parts
    }
    graph = {}
    for module, path in paths.items():
        # A package's relative imports start from the package itself.
        anchor = f"{module}.__init__" if path.name == "__init__.py" else module
        names = imported_names(ast.parse(path.read_text(), str(path)), anchor)
        graph[module] = {name for name in names if name in paths and name != module}

    def reaches(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for following in graph[todo.pop()] - seen:
                seen.add(following)
                todo.append(following)
        return seen

    reach = {module: reaches(module) for module in graph}
    cycles = {
        frozenset({module} | {other for other in reach[module] if module in reach[other]})
        for module in graph
        if module in reach[module]
    }
    return [set(cycle) for cycle in cycles]


def may_import(importer: str, imported: str) -> bool:
    if imported == importer or imported == "lib":
        return True
    # Only the wiring on top (the `mailing report` command, the URL map) reaches reports.
    if importer in TOP:
        return True
    if imported == "reports":
        return False
    if importer in LIB_ONLY:
        return False
    if importer in LAYERS and imported in LAYERS:
        return LAYERS.index(imported) < LAYERS.index(importer)
    return False


def wrong_way_imports(root: Path) -> list[tuple[str, str]]:
    wrong = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if "migrations" in relative.parts:
            continue
        importer = part_of(relative)
        module = "groundswell." + ".".join(relative.with_suffix("").parts)
        for imported in imported_parts(ast.parse(path.read_text(), str(path)), module):
            if not may_import(importer, imported):
                wrong.append((relative.as_posix(), imported))
    return wrong


class TestImportDirections:
    def test_every_part_of_the_code_has_a_place_in_the_layers(self) -> None:
        parts = {part_of(p.relative_to(SRC)) for p in SRC.rglob("*.py")}
        assert parts <= set(LAYERS) | LIB_ONLY | TOP

    def test_no_app_imports_one_above_it_and_nothing_imports_reports(self) -> None:
        wrong = set(wrong_way_imports(SRC))
        assert sorted(wrong - ALLOWED) == []

    def test_every_allowed_exception_still_exists(self) -> None:
        # An exception whose import is gone must leave the list with it.
        assert set(wrong_way_imports(SRC)) >= ALLOWED


class TestNoImportCycles:
    def test_no_two_modules_import_each_other(self) -> None:
        # e.g. petitions.actions handing signatures to writer.py, which imports actions.
        cycles = import_cycles(SRC)
        assert [c for c in cycles if c not in ALLOWED_CYCLES] == []

    def test_every_allowed_cycle_still_exists(self) -> None:
        cycles = import_cycles(SRC)
        assert [c for c in ALLOWED_CYCLES if c not in cycles] == []
