"""The checker's command line: exit codes 0/1/2, --json, --help, internal errors never accepted."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from checker import registry
from checker.cli import main
from extract.certificate import build_certificate, write_certificate
from extract.config import ModelConfig
from extract.search.single_sequence import search
from tests.oracle import tiny_trained_weights

CFG = ModelConfig(d_vocab=6, n_ctx=3, d_model=5, d_head=4)


@pytest.fixture(scope="module")
def weights():
    return tiny_trained_weights(CFG, 1)


def write(tmp_path: Path, name: str, weights: Any, claim: int, strategy: str = "single-sequence",
          witness: dict[str, Any] | None = None) -> Path:
    wit = witness if witness is not None else search(weights, {}).witness
    return write_certificate(build_certificate(weights, strategy, {}, wit, claim), tmp_path / name)


class Faulty(types.ModuleType):
    """A strategy stand-in whose check() misbehaves in a chosen way."""

    NAME = "faulty"
    KNOBS: dict[str, tuple[str, ...]] = {}
    result: Any = 0

    def cost_bound(self, header: Any) -> int:
        return 1

    def check(self, cert: Any, ops: Any) -> Any:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.fixture
def faulty(monkeypatch: pytest.MonkeyPatch) -> Faulty:
    mod = Faulty("tests._faulty_strategy")
    monkeypatch.setitem(sys.modules, "tests._faulty_strategy", mod)
    monkeypatch.setitem(registry.STRATEGY_MODULES, "faulty", "tests._faulty_strategy")
    return mod


def test_claim_that_holds_exits_0(tmp_path: Path, weights: Any, capsys: pytest.CaptureFixture[str]) -> None:
    p = write(tmp_path, "ok.json", weights, 1)
    assert main([str(p)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{p}: claim holds: certified 1 >= claimed 1 [single-sequence] ops=")


def test_claim_that_fails_exits_1(tmp_path: Path, weights: Any, capsys: pytest.CaptureFixture[str]) -> None:
    p = write(tmp_path, "over.json", weights, 2)
    assert main([str(p)]) == 1
    assert "CLAIM FAILS: certified 1 < claimed 2" in capsys.readouterr().out


def test_malformed_wins_over_failing(tmp_path: Path, weights: Any, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "ok.json", weights, 1)
    over = write(tmp_path, "over.json", weights, 2)
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main([str(good), str(over), str(bad)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[2].startswith(f"{bad}: (file): not valid JSON")


def test_json_output_lists_every_file(tmp_path: Path, weights: Any, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "ok.json", weights, 1)
    over = write(tmp_path, "over.json", weights, 2)
    bad = tmp_path / "missing.json"
    assert main([str(good), str(over), str(bad), "--json"]) == 3
    rows = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in rows] == ["ok", "claim-fails", "unreadable"]
    assert rows[0]["certified"] == 1 and rows[0]["claimed"] == 1 and rows[0]["ops"] > 0
    assert isinstance(rows[0]["wall_ns"], int) and rows[0]["seconds"].count(".") == 1
    assert rows[2]["field"] == "(file)"


def test_help_explains_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "Exit status" in out and "--json" in out


def test_no_files_is_a_usage_error() -> None:
    assert main([]) == 2


@pytest.mark.parametrize(
    "result,needle",
    [
        (ZeroDivisionError("boom"), "ZeroDivisionError: boom"),
        (RecursionError("deep"), "recursion"),
        (True, "returned True"),
        (-1, "returned -1"),
        (6**3 + 1, "returned 217"),
        ("5", "returned '5'"),
    ],
)
def test_a_misbehaving_strategy_is_an_internal_error_never_acceptance(
    tmp_path: Path, weights: Any, faulty: Faulty, capsys: pytest.CaptureFixture[str], result: Any, needle: str
) -> None:
    faulty.result = result
    p = write(tmp_path, "f.json", weights, 0, strategy="faulty", witness={})
    assert main([str(p)]) == 2
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"{p}: (internal): ") and needle in out and "holds" not in out


def test_module_entry_point_runs(tmp_path: Path, weights: Any) -> None:
    p = write(tmp_path, "ok.json", weights, 1)
    r = subprocess.run([sys.executable, "-m", "checker", str(p)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "claim holds" in r.stdout and r.stderr == ""


def test_a_numpy_integer_count_is_accepted_as_an_integer(tmp_path: Path, weights: Any, faulty: Faulty,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    faulty.result = np.int64(0)
    p = write(tmp_path, "f.json", weights, 0, strategy="faulty", witness={})
    assert main([str(p)]) == 0


def test_operation_counts_stay_exact_python_integers() -> None:
    import numpy as np

    from checker.ops import OpCounter

    ops = OpCounter()
    ops.add(np.int64(2**62))
    ops.add(np.int64(2**62))
    assert ops.count == 2**63 and type(ops.count) is int
    with pytest.raises(TypeError):
        ops.add(1.5)  # type: ignore[arg-type]
