"""The package reads as a pipeline: no module imports one that imports it back, and the
generator depends on neither the verifier nor the ingest module."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"


def _imports() -> dict[str, set[str]]:
    """module -> the package modules it imports anywhere (inside functions too), leaving out
    imports made for type checkers only."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                node.body = []
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "assistant":
                    found |= {f"assistant.{a.name}" for a in node.names}
                elif node.module.startswith("assistant."):
                    found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("assistant.")}
        graph[name] = {m for m in found if m != name}
    return graph


def test_no_import_circles():
    graph = _imports()
    modules = set(graph)

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt in modules and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    circles = sorted(m for m in modules if m in reach(m) and m != "assistant")
    assert circles == [], f"modules that import themselves back: {circles}"


def test_the_generator_imports_neither_the_verifier_nor_ingest():
    imported = _imports()["assistant.answer"]
    assert "assistant.verify" not in imported and "assistant.ingest" not in imported
