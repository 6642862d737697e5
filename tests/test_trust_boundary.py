"""The trust boundary of checker/ (docs/trust-model.md), enforced on the source by walking its AST.

Rules, for every checker/**/*.py:
1. No import of the untrusted side or of float-producing libraries: extract, torch, mpmath,
   scipy, jax, tensorflow, sympy, decimal, statistics, cmath, random.
2. numpy only under checker/strategies/ (integer vectorisation with overflow guards).
3. No float or complex literal; no call of float() or complex(); no dtype=float.
4. No float-producing attribute: numpy float dtypes, np.exp/log/sqrt/mean/linalg/..., math
   functions other than the integer ones (isqrt, gcd, lcm, comb, perm, factorial, prod),
   time.time/perf_counter/monotonic (use the *_ns variants).
5. No `x ** -k` with a literal negative exponent (an int would become a float).
6. No eval/exec/compile/__import__ calls; no pickle, marshal or shelve; json only in
   checker/load.py (which parses with float-rejecting hooks) and checker/cli.py (output).
7. Checker core (checker/*.py, not strategies): no `/` operator at all, not even on
   Fractions; exact division is written Fraction(a, b) or a // b. Strategy modules may use
   `/` on Fraction operands only; that part is enforced by review, not by this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CHECKER = Path(__file__).resolve().parent.parent / "checker"
FILES = sorted(CHECKER.rglob("*.py"))
BANNED_MODULES = {"extract", "torch", "mpmath", "scipy", "jax", "tensorflow", "sympy", "decimal", "statistics", "cmath",
                  "random", "pickle", "marshal", "shelve"}
JSON_ALLOWED = {"load.py", "cli.py"}
BANNED_CALLS = {"eval", "exec", "compile", "__import__"}
NUMPY_FLOATY = {"float16", "float32", "float64", "float128", "float_", "double", "longdouble", "single", "half",
                "complex64", "complex128", "complex_", "cdouble", "exp", "exp2", "expm1", "log", "log2", "log10",
                "log1p", "sqrt", "cbrt", "mean", "average", "std", "var", "linalg", "true_divide", "divide",
                "random", "fft", "sin", "cos", "tanh", "floating", "nan", "inf", "pi", "e", "reciprocal", "power",
                "float_power", "median", "percentile", "quantile", "interp", "trapz", "polyfit"}
MATH_OK = {"isqrt", "gcd", "lcm", "comb", "perm", "factorial", "prod"}
TIME_FLOATY = {"time", "perf_counter", "monotonic", "process_time", "thread_time"}


def is_core(path: Path) -> bool:
    return path.parent == CHECKER


def violations(path: Path, source: str | None = None) -> list[str]:
    """Every rule violation in ``path`` (or in ``source`` as if it were that file)."""
    tree = ast.parse(path.read_text() if source is None else source, filename=str(path))
    out: list[str] = []
    numpy_names: set[str] = set()
    math_names: set[str] = set()
    time_names: set[str] = set()

    def where(node: ast.AST) -> str:
        return f"{path.relative_to(CHECKER.parent)}:{getattr(node, 'lineno', '?')}"

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for mod in mods:
                top = mod.split(".")[0]
                if top in BANNED_MODULES:
                    out.append(f"{where(node)}: imports {mod}")
                if top == "json" and not (is_core(path) and path.name in JSON_ALLOWED):
                    out.append(f"{where(node)}: json outside load.py/cli.py")
                if top == "numpy" and is_core(path):
                    out.append(f"{where(node)}: numpy in the checker core")
            if isinstance(node, ast.Import):
                for a in node.names:
                    bound = a.asname or a.name
                    if a.name == "numpy":
                        numpy_names.add(bound)
                    if a.name == "math":
                        math_names.add(bound)
                    if a.name == "time":
                        time_names.add(bound)
            else:
                for a in node.names:
                    if node.module == "math" and a.name not in MATH_OK:
                        out.append(f"{where(node)}: from math import {a.name} (non-integer math)")
                    if node.module == "numpy" and a.name in NUMPY_FLOATY:
                        out.append(f"{where(node)}: from numpy import {a.name}")
                    if node.module == "time" and a.name in TIME_FLOATY:
                        out.append(f"{where(node)}: from time import {a.name} (returns a float)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, (float, complex)):
            out.append(f"{where(node)}: float literal {node.value!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("float", "complex"):
            out.append(f"{where(node)}: {node.func.id}() call")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in BANNED_CALLS:
            out.append(f"{where(node)}: {node.func.id}() call")
        elif isinstance(node, ast.keyword) and node.arg == "dtype":
            v = node.value
            if isinstance(v, ast.Name) and v.id in ("float", "complex"):
                out.append(f"{where(v)}: dtype={v.id}")
            if isinstance(v, ast.Constant) and isinstance(v.value, str) and ("float" in v.value or v.value.startswith(("f", "c", "d"))):
                out.append(f"{where(v)}: dtype={v.value!r}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            r = node.right
            if isinstance(r, ast.UnaryOp) and isinstance(r.op, ast.USub):
                out.append(f"{where(node)}: power with a negative exponent")
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.Div) and is_core(path):
            out.append(f"{where(node)}: '/' operator in the checker core")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            base, attr = node.value.id, node.attr
            if base in numpy_names and attr in NUMPY_FLOATY:
                out.append(f"{where(node)}: {base}.{attr}")
            if base in math_names and attr not in MATH_OK:
                out.append(f"{where(node)}: {base}.{attr} (non-integer math)")
            if base in time_names and attr in TIME_FLOATY:
                out.append(f"{where(node)}: {base}.{attr} (returns a float)")
    return out


def test_the_checker_has_files_to_inspect() -> None:
    names = {p.name for p in FILES}
    assert {"load.py", "decide.py", "exp_bounds.py", "verify.py"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CHECKER.parent)))
def test_checker_file_respects_the_trust_boundary(path: Path) -> None:
    assert violations(path) == []


@pytest.mark.parametrize(
    "source,needle",
    [
        ("import torch\n", "imports torch"),
        ("from extract.model import ModelWeights\n", "imports extract"),
        ("import mpmath\n", "imports mpmath"),
        ("import numpy as np\n", "numpy in the checker core"),
        ("x = 0.5\n", "float literal"),
        ("x = float('1')\n", "float() call"),
        ("x = 1 / 2\n", "'/' operator"),
        ("x = 1\nx /= 2\n", "'/' operator"),
        ("import math\nx = math.sqrt(2)\n", "math.sqrt"),
        ("from math import exp\n", "non-integer math"),
        ("import time\nt = time.perf_counter()\n", "returns a float"),
        ("x = 2 ** -3\n", "negative exponent"),
        ("x = eval('1')\n", "eval() call"),
        ("import pickle\n", "imports pickle"),
        ("import json\n", "json outside"),
    ],
)
def test_the_rules_catch_each_kind_of_violation(source: str, needle: str) -> None:
    found = violations(CHECKER / "probe.py", source)  # judged as a checker core file, never written
    assert any(needle in v for v in found), found
