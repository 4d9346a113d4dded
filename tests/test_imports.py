"""The package's layering: no import cycles inside python/fastbpe, and every `fastbpe.X` name
that the docs (README.md, docs/*.md) and the package's own docstrings and messages use exists.

Imports are read with `ast` from the source, at every depth (imports inside functions count: they
only hide a cycle until the function runs). Imports under `if TYPE_CHECKING:` never run and are
left out: type checkers resolve cycles among annotations by themselves.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import fastbpe

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "python" / "fastbpe"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}


def _is_extension(module: str) -> bool:
    """A compiled module of the package (`fastbpe._fastbpe`), known by its stub or library."""
    rel = Path(*module.split(".")[1:])
    folder = PACKAGE / rel.parent
    return (folder / f"{rel.name}.pyi").exists() or any(folder.glob(f"{rel.name}.*.so"))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those under `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[tuple[str, int]]]:
    """module -> {(imported module inside the package, line)}."""
    modules = _modules()
    graph: dict[str, set[tuple[str, int]]] = {m: set() for m in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _import_nodes(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = name.split(".")
                    # `from . import x` in a package's __init__ is relative to the package itself.
                    base = base[: len(base) - node.level + (1 if is_package else 0)]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                # `from P import n`: the submodule P.n when there is one (the extension module
                # counts: it has no imports), else P itself, whose __init__ must provide n.
                for a in node.names:
                    sub = f"{stem}.{a.name}"
                    targets.append(sub if sub in modules or _is_extension(sub) else stem)
            for t in targets:
                # `import P.x` or a name inside P.x: the module P.x.
                while t and t not in modules and "." in t and not _is_extension(t):
                    t = t.rsplit(".", 1)[0]
                if t in modules and t != name:
                    graph[name].add((t, node.lineno))
    return graph


def cycles(graph: dict[str, set[tuple[str, int]]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w, _ in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_no_import_cycles_in_the_package():
    graph = import_graph()
    found = cycles(graph)
    lines = []
    for comp in found:
        lines.append(" <-> ".join(comp))
        for m in comp:
            for t, line in sorted(graph[m]):
                if t in comp:
                    lines.append(f"    {_modules()[m].relative_to(ROOT)}:{line} imports {t}")
    assert not found, "import cycles inside python/fastbpe:\n" + "\n".join(lines)


def test_the_cycle_finder_finds_function_level_cycles(tmp_path):
    """The checker itself: a cycle closed by an import inside a function is found; one closed
    only under TYPE_CHECKING is not."""
    a = ast.parse("def f():\n    from .b import x\n")
    b = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import y\n")
    assert [n.module for n in _import_nodes(a)] == ["b"]
    assert [n.module for n in _import_nodes(b)] == ["typing"]
    graph = {"p.a": {("p.b", 2)}, "p.b": {("p.c", 1)}, "p.c": {("p.a", 5)}, "p.d": set()}
    assert cycles(graph) == [["p.a", "p.b", "p.c"]]
    assert cycles({"p.a": {("p.b", 1)}, "p.b": set()}) == []


# ----------------------------------------------------------------------------- documented names

# `fastbpe.x.y` where it names the package, not a file such as `tokenizer.fastbpe.json`.
NAME = re.compile(r"(?<![\w./-])fastbpe((?:\.[A-Za-z_]\w*)+)")
NOT_NAMES = {"json", "py", "pyi", "so"}  # file suffixes: fastbpe.json is a file name


def _documented_names() -> dict[str, str]:
    """name -> first place it is used."""
    sources = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    sources += sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    names: dict[str, str] = {}
    for src in sources:
        for lineno, line in enumerate(src.read_text(encoding="utf-8").splitlines(), 1):
            for m in NAME.finditer(line):
                dotted = m.group(1).lstrip(".")
                if dotted.split(".")[0] in NOT_NAMES:
                    continue
                names.setdefault(dotted, f"{src.relative_to(ROOT)}:{lineno}")
    return names


def _resolve(dotted: str) -> bool:
    obj: object = fastbpe
    path = "fastbpe"
    for part in dotted.split("."):
        path += "." + part
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        try:
            obj = importlib.import_module(path)
        except ImportError:
            return False
    return True


def test_every_documented_name_exists():
    names = _documented_names()
    assert "load" in names and "save" in names  # the scan sees the docs
    missing = {n: where for n, where in names.items() if not _resolve(n)}
    assert not missing, "documented but missing: " + ", ".join(
        f"fastbpe.{n} ({where})" for n, where in sorted(missing.items())
    )


def test_io_names_are_package_attributes():
    """Documented as `fastbpe.load` etc. (docs/format.md, get_encoding's error text)."""
    for name in ("load", "save", "encode_file", "load_tokens", "save_format_for"):
        assert callable(getattr(fastbpe, name)), name
        assert name in fastbpe.__all__
