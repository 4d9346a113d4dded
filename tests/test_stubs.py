"""Type information ships with the package and matches what it describes: the extension module's
stub (`_fastbpe.pyi`) names exactly what the module defines, and every public function and method
of the pure-Python API is fully annotated."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import fastbpe
import fastbpe._fastbpe as ext
from fastbpe import cli, convert, io, registry, tokenizer, training

PACKAGE = Path(fastbpe.__file__).parent


def _stub() -> ast.Module:
    return ast.parse((PACKAGE / "_fastbpe.pyi").read_text(encoding="utf-8"))


def _stub_names(body: list[ast.stmt]) -> set[str]:
    names = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _public(names) -> set[str]:
    return {n for n in names if not (n.startswith("__") and n.endswith("__"))}


def _assert_same(stubbed: set[str], actual: set[str], where: str) -> None:
    assert stubbed == actual, (
        f"{where}: only in the stub {sorted(stubbed - actual)}; only in the runtime "
        f"{sorted(actual - stubbed)}"
    )


def test_marker_and_stub_ship_with_the_package():
    assert (PACKAGE / "py.typed").is_file()
    assert (PACKAGE / "_fastbpe.pyi").is_file()


def test_stub_names_exactly_the_extension_module():
    in_stub = _stub_names(_stub().body) - {"_Path"}  # a type alias of the stub itself
    _assert_same(in_stub, _public(dir(ext)), "_fastbpe")


def test_stub_classes_list_every_method():
    stub = _stub()
    for node in stub.body:
        if not isinstance(node, ast.ClassDef):
            continue
        cls = getattr(ext, node.name)
        _assert_same(_public(_stub_names(node.body)), _public(vars(cls)), node.name)


def test_stub_parameters_match_the_runtime_signatures():
    """PyO3 records each function's signature in `__text_signature__`: names must agree."""
    stub = _stub()

    def check(fn_node: ast.FunctionDef, obj: object, where: str) -> None:
        sig = getattr(obj, "__text_signature__", None)
        if not sig:
            return
        runtime = [p for p in inspect.signature(obj).parameters if p not in ("self", "$self")]
        args = fn_node.args
        stubbed = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
        stubbed = [a for a in stubbed if a != "self"]
        assert stubbed == runtime, f"{where}: stub {stubbed} vs runtime {runtime}"

    for node in stub.body:
        if isinstance(node, ast.FunctionDef):
            check(node, getattr(ext, node.name), node.name)
        elif isinstance(node, ast.ClassDef):
            cls = getattr(ext, node.name)
            for m in node.body:
                if isinstance(m, ast.FunctionDef) and not m.name.startswith("__"):
                    check(m, getattr(cls, m.name), f"{node.name}.{m.name}")


def _public_callables():
    for mod in (fastbpe, tokenizer, training, io, convert, registry, cli):
        for name, obj in vars(mod).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isfunction(obj):
                yield f"{mod.__name__}.{name}", obj
            elif inspect.isclass(obj):
                for mname, m in vars(obj).items():
                    if inspect.isfunction(m) and (not mname.startswith("_") or mname == "__init__"):
                        yield f"{mod.__name__}.{name}.{mname}", m
                    elif isinstance(m, (staticmethod, classmethod)) and not mname.startswith("_"):
                        yield f"{mod.__name__}.{name}.{mname}", m.__func__
                    elif isinstance(m, property) and not mname.startswith("_"):
                        yield f"{mod.__name__}.{name}.{mname}", m.fget


def test_public_python_api_is_fully_annotated():
    missing = []
    for where, fn in _public_callables():
        sig = inspect.signature(fn)
        for p in sig.parameters.values():
            if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty:
                missing.append(f"{where}({p.name})")
        if sig.return_annotation is inspect.Signature.empty:
            missing.append(f"{where} -> ?")
    assert not missing, f"unannotated: {missing}"


def test_public_api_has_docstrings():
    undocumented = [
        name for name in fastbpe.__all__ if not (getattr(fastbpe, name).__doc__ or "").strip()
    ]
    undocumented += [
        where
        for where, fn in _public_callables()
        if not (fn.__doc__ or "").strip()
        and ".cli." not in where  # the CLI documents itself through argparse
        and not where.endswith(".__init__")  # the class docstring covers construction
    ]
    assert not undocumented, f"no docstring: {undocumented}"
