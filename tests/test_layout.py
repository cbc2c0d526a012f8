"""The import graph of the project's own modules has no circles (imports inside functions count too)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bench", "flows", "ingestion", "pipelines", "sentiment", "sentiment_cli", "sentiment_model")


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            for target in targets:
                if target in files and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circles():
    graph = _graph()
    assert len(graph) > 50 and "sentiment_model.train" in graph["bench.general"]
    assert _cycles(graph) == []


FRONT_DOOR = ("sentiment_cli",)
STAGES = ("ingestion", "pipelines", "sentiment_model", "flows")
GROUND = ("sentiment",)


def _package(module: str) -> str:
    return module.split(".")[0]


def test_imports_run_only_downwards_front_door_stages_ground():
    """The ground (settings, warehouse, registry's files, logs, options) stands on nothing of ours; the stages
    stand on the ground; only the front door (the command line) stands on the stages; bench stands beside."""
    upward = []
    for module, deps in _graph().items():
        for dep in deps:
            if _package(module) in GROUND and _package(dep) in (*STAGES, *FRONT_DOOR, "bench"):
                upward.append(f"{module} -> {dep}")
            if _package(module) in STAGES and _package(dep) in (*FRONT_DOOR, "bench"):
                upward.append(f"{module} -> {dep}")
    assert upward == []
    assert any(_package(d) in STAGES for d in _graph()["sentiment_cli.score"])


def test_no_command_calls_one_of_its_own_options():
    """A command's option named like a helper (`verbose`) hides the helper: calling it calls a bool."""
    shadowed = []
    for path in sorted((ROOT / "sentiment_cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                params = {a.arg for a in node.args.args + node.args.kwonlyargs}
                calls = {c.func.id for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
                shadowed += [f"{path.name}:{node.name}({name})" for name in params & calls]
    assert shadowed == []


WAREHOUSE_PARTS = (
    "raw|quarantine|models|scored|aggregates|manifests|alerts|state|cache|logs|reports|staging|feeds|"
    "topics.toml|daily_sentiment|daily_topic_sentiment|current|CURRENT"
)


def test_only_the_warehouse_module_builds_warehouse_paths():
    import re

    built = re.compile(rf'\b(root|home|warehouse|wh)\)?\s*/\s*"({WAREHOUSE_PARTS})"')
    found = []
    for package in ("ingestion", "pipelines", "flows", "sentiment", "sentiment_model", "sentiment_cli"):
        for path in (ROOT / package).rglob("*.py"):
            if path.relative_to(ROOT).as_posix() == "sentiment/warehouse.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if built.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "warehouse paths built outside sentiment/warehouse.py:\n" + "\n".join(found)
