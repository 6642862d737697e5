"""The checker's work, memory and I/O stay bounded for every file within the documented limits.

Each test builds one of the resource cases of docs/adversarial.md (hand-written certificates
that once cost seconds to hours, or gigabytes) and asserts the bounded behaviour: a refusal in
one line with the right exit code, quickly, or a verdict. Memory is measured in a child
process (resource.getrusage of the children), so the test process's own heap does not count.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from checker.certificate import FORMAT_NAME, FORMAT_VERSION, WEIGHT_NAMES, canonical_weight_encoding, json_int, normalise, weight_shapes
from checker.cli import EXIT_MALFORMED, EXIT_OUTPUT, EXIT_UNREADABLE, main
from checker.cost import DEFAULT_MAX_OPS
from checker.load import MAX_CONTAINERS, MAX_FILE_BYTES, MAX_VALUES

ROOT = Path(__file__).resolve().parent.parent

Mantissa = Callable[[str, int, int], int]


def hand_certificate(v: int, n: int, d: int, h: int, strategy: str, mantissa: Mantissa, exponents: dict[str, int] | None = None,
                     knobs: dict[str, str] | None = None, witness: dict[str, Any] | None = None, claim: int = 0,
                     provenance: Any = None) -> dict[str, Any]:
    """A certificate written by hand (not by extract/): weights from ``mantissa(name, i, j)``, a correct hash."""
    exps = {k: 0 for k in WEIGHT_NAMES} | (exponents or {})
    weights, normal = {}, {}
    for name, (r, c) in weight_shapes(v, n, d, h).items():
        rows = [[mantissa(name, i, j) for j in range(c)] for i in range(r)]
        weights[name] = {"shape": [r, c], "exponent": exps[name], "mantissas": [[json_int(x) for x in row] for row in rows]}
        normal[name] = normalise(rows, exps[name])
    cert: dict[str, Any] = {
        "format": FORMAT_NAME, "version": FORMAT_VERSION, "model": {"d_vocab": v, "n_ctx": n, "d_model": d, "d_head": h},
        "weights": weights, "weights_sha256": hashlib.sha256(canonical_weight_encoding(v, n, d, h, normal)).hexdigest(),
        "strategy": {"name": strategy, "knobs": knobs or {}}, "witness": witness or {}, "claim": {"certified_count": claim},
    }
    if provenance is not None:
        cert["provenance"] = provenance
    return cert


def ties(seed: int, bits: int = 3) -> Mantissa:
    """Random small weights except W_U with identical columns: every logit ties, no sequence is correct,
    and nothing is decided cheaply (the brute-force fallback's worst case)."""
    rnd = random.Random(seed)
    cache: dict[tuple[str, int], int] = {}

    def m(name: str, i: int, j: int) -> int:
        if name == "W_U":
            return cache.setdefault((name, i), rnd.randint(-(2**bits), 2**bits))
        return rnd.randint(-(2**bits), 2**bits)

    return m


def small(seed: int, bound: int = 20) -> Mantissa:
    rnd = random.Random(seed)
    return lambda name, i, j: rnd.randint(-bound, bound)


def dump(path: Path, cert: dict[str, Any]) -> Path:
    path.write_text(json.dumps(cert, separators=(",", ":")))
    return path


def run_checker(*args: str, stdout: Any = subprocess.PIPE, env: dict[str, str] | None = None,
                cwd: Path = ROOT, timeout: float = 120) -> tuple[int, str, str, float]:
    """(exit code, stdout, stderr, seconds) of `python -m checker ARGS` in a child process."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "checker", *args], stdout=stdout, stderr=subprocess.PIPE, cwd=cwd,
                          env=env, timeout=timeout)
    out = proc.stdout.decode("utf-8", "replace") if isinstance(proc.stdout, bytes) else ""
    return proc.returncode, out, proc.stderr.decode("utf-8", "replace"), time.perf_counter() - t0


# ---------------------------------------------------------------- work: the cost bound


def test_brute_force_of_2_to_the_40_sequences_is_refused_at_once(tmp_path: Path) -> None:
    """A few hundred bytes claiming brute force over 2^40 sequences: refused from its header in a second."""
    p = dump(tmp_path / "bf.json", hand_certificate(2, 40, 1, 1, "brute-force", ties(1)))
    assert p.stat().st_size < 2000
    code, out, err, secs = run_checker(str(p))
    assert code == EXIT_MALFORMED and err == ""
    assert out.count("\n") == 1 and out.startswith(f"{p}: (cost): ") and "--max-ops" in out
    assert secs < 10  # well under a second of work, plus interpreter start-up on a loaded machine


def test_brute_force_of_2_to_the_18_tied_sequences_is_checked_in_seconds(tmp_path: Path) -> None:
    """740 bytes, v = 2, n = 18, every logit tied: 26 s of one-by-one decisions before the fallback was capped."""
    p = dump(tmp_path / "bf.json", hand_certificate(2, 18, 1, 1, "brute-force", ties(1)))
    assert p.stat().st_size < 1000
    code, out, err, secs = run_checker(str(p))
    assert code == 0 and "certified 0 >= claimed 0" in out and err == ""
    assert secs < 60


def test_raising_the_budget_admits_what_it_refused() -> None:
    cert = hand_certificate(2, 40, 1, 1, "brute-force", ties(1))
    from checker.errors import CertificateError
    from checker.load import load_certificate_obj

    with pytest.raises(CertificateError) as info:
        load_certificate_obj(cert, "<mem>")
    assert info.value.field == "(cost)"
    assert load_certificate_obj(cert, "<mem>", max_ops=10**14).n_ctx == 40  # loads; checking would take days


def test_max_ops_on_the_command_line_refuses_a_small_certificate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = dump(tmp_path / "c.json", hand_certificate(4, 2, 2, 2, "cubic", small(2)))
    assert main([str(p)]) == 0
    capsys.readouterr()
    assert main([str(p), "--max-ops", "1000"]) == EXIT_MALFORMED
    assert "(cost): " in capsys.readouterr().out
    assert main([str(p), "--max-ops", "many"]) == 2  # usage error


def test_wide_mantissas_are_refused_before_any_arithmetic(tmp_path: Path) -> None:
    """Brute force at v = 16, n = 4 with 4095-bit mantissas took 49 s; mantissas are limited to 64 bits."""
    rnd = random.Random(3)
    big = lambda name, i, j: rnd.getrandbits(4095) | (1 << 4094) if name in ("W_V", "W_O", "W_U") else rnd.randint(-7, 7)
    p = dump(tmp_path / "wide.json", hand_certificate(16, 4, 4, 4, "brute-force", big, {"W_V": -256, "W_O": -256, "W_U": -256}))
    code, out, _, secs = run_checker(str(p))
    assert code == EXIT_MALFORMED and ".mantissas[" in out and secs < 5


def test_wider_weights_raise_the_bound() -> None:
    """The bound grows with the width of the weights (widest mantissa + exponent spread), not only the shape."""
    from checker.cost import Header, cost_of, load_ops
    from checker.load import MAX_MANTISSA_BITS, load_certificate_obj, weight_width
    from checker.registry import strategy_module

    assert MAX_MANTISSA_BITS >= 277  # every float32 tensor, whatever its dynamic range, is accepted
    bounds = []
    for bits in (30, 250):
        rnd = random.Random(bits)
        cert = load_certificate_obj(hand_certificate(8, 3, 4, 4, "cubic", lambda name, i, j: rnd.getrandbits(bits),
                                                     {k: -256 for k in WEIGHT_NAMES}), "<mem>")
        width = weight_width({k: (m.rows, m.exp) for k, m in cert.weights.items()})
        bounds.append(cost_of(Header(8, 3, 4, 4, "cubic", {}, width), strategy_module("cubic")))
    loading = load_ops(8, 3, 4, 4)
    assert bounds[1] - loading == 9 * (bounds[0] - loading) > 0  # 250 bits: three 96-bit steps, factor 3^2


def test_every_registered_strategy_declares_a_cost_bound() -> None:
    from checker.cost import Header
    from checker.registry import STRATEGY_MODULES, strategy_module

    for name in STRATEGY_MODULES:
        module = strategy_module(name)
        knobs = {k: v[0] for k, v in getattr(module, "KNOBS", {}).items()}
        assert module.cost_bound(Header(64, 4, 32, 32, name, knobs)) <= DEFAULT_MAX_OPS, name


def test_a_strategy_without_a_cost_bound_cannot_be_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import types

    from checker import registry

    mod = types.ModuleType("tests._unbounded")
    mod.NAME, mod.KNOBS, mod.check = "unbounded", {}, lambda cert, ops: 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tests._unbounded", mod)
    monkeypatch.setitem(registry.STRATEGY_MODULES, "unbounded", "tests._unbounded")
    p = dump(tmp_path / "u.json", hand_certificate(4, 2, 2, 2, "unbounded", small(4)))
    assert main([str(p)]) == EXIT_MALFORMED
    assert "strategy.name: " in capsys.readouterr().out


# ---------------------------------------------------------------- memory: bounded loading


_PEAK_WRAPPER = (
    "import sys\n"
    "from checker.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
    "print('VmHWM', hwm, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _checker_peak_rss(path: Path) -> tuple[int, str, int]:
    """(exit code, output, peak RSS in KiB) of the checker in a fresh interpreter.

    The peak is the process's own VmHWM (/proc/self/status) read at its end: unlike
    getrusage's ru_maxrss it does not include the memory of the (possibly large) test process
    that started it.
    """
    proc = subprocess.run([sys.executable, "-c", _PEAK_WRAPPER, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    hwm = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("VmHWM ")]
    assert hwm, proc.stderr
    return proc.returncode, proc.stdout, int(hwm[0])


def test_a_64_mib_file_of_empty_objects_is_refused_before_parsing(tmp_path: Path) -> None:
    """4.9 GB and 45 s before: refused by counting brackets, with the memory of the file itself."""
    head = json.dumps(hand_certificate(2, 2, 1, 1, "brute-force", small(5), provenance={"x": "PAD"}), separators=(",", ":"))
    k = (MAX_FILE_BYTES - len(head) - 16) // 3
    path = tmp_path / "prov.json"
    path.write_text(head.replace('"PAD"', "[" + ",".join(["{}"] * k) + "]"))
    t0 = time.perf_counter()
    code, out, peak_kb = _checker_peak_rss(path)
    assert code == EXIT_MALFORMED and out.startswith(f"{path}: (file): ") and "exceed the limit" in out
    assert time.perf_counter() - t0 < 10
    assert peak_kb * 1024 < 3 * MAX_FILE_BYTES  # the file's bytes and the interpreter, nothing per value


@pytest.mark.parametrize("unit,limit", [(b"[],", MAX_CONTAINERS), (b"0,", MAX_VALUES)], ids=["containers", "values"])
def test_just_over_the_structure_limits_is_refused(tmp_path: Path, unit: bytes, limit: int) -> None:
    from checker.errors import CertificateError
    from checker.load import parse_json_bytes

    data = b'{"provenance":[' + unit * limit + b"0]}"
    with pytest.raises(CertificateError) as info:
        parse_json_bytes(data)
    assert info.value.field == "(file)" and "exceed the limit" in info.value.message


@pytest.mark.parametrize("unit", [b"0,", b"1234567,"], ids=["small-ints-16MB", "distinct-ints-64MB"])
def test_peak_memory_at_the_structure_limits_stays_under_the_documented_figure(tmp_path: Path, unit: bytes) -> None:
    """Just under the value limit, with the smallest values (the densest file) and with 7-digit integers
    (a new integer object each, the file near 64 MiB): peak RSS < 100 MiB + 10 x file size."""
    n = MAX_VALUES - 64
    path = tmp_path / "dense.json"
    path.write_bytes(b'{"provenance":{"x":[' + unit * n + b"0]}}")
    code, out, peak_kb = _checker_peak_rss(path)
    assert code == EXIT_MALFORMED and ": (file): " not in out  # parsed whole, then refused for its content
    assert peak_kb * 1024 < 100 * 2**20 + 10 * path.stat().st_size


def test_deep_nesting_is_refused_with_its_field(capsys: pytest.CaptureFixture[str]) -> None:
    from checker.errors import CertificateError
    from checker.load import MAX_DEPTH, load_certificate_obj

    deep: Any = 0
    for _ in range(MAX_DEPTH + 2):
        deep = [deep]
    cert = hand_certificate(2, 2, 1, 1, "cubic", small(6), witness={"x": deep})
    with pytest.raises(CertificateError) as info:
        load_certificate_obj(cert, "<mem>")
    assert info.value.field.startswith("witness.x[0]") and "nested" in info.value.message


def test_provenance_is_bounded() -> None:
    from checker.errors import CertificateError
    from checker.load import MAX_PROVENANCE_KEYS, MAX_STRING_CHARS, load_certificate_obj

    many = hand_certificate(2, 2, 1, 1, "cubic", small(7), provenance={f"k{i}": "v" for i in range(MAX_PROVENANCE_KEYS + 1)})
    long = hand_certificate(2, 2, 1, 1, "cubic", small(7), provenance={"k": "v" * (MAX_STRING_CHARS + 1)})
    for cert, field in ((many, "provenance"), (long, "provenance.k")):
        with pytest.raises(CertificateError) as info:
            load_certificate_obj(cert, "<mem>")
        assert info.value.field == field


# ---------------------------------------------------------------- input and output


def _valid(tmp_path: Path) -> Path:
    return dump(tmp_path / "ok.json", hand_certificate(4, 2, 2, 2, "cubic", small(8)))


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    code, out, err, secs = run_checker(str(fifo), timeout=30)
    assert code == EXIT_UNREADABLE and out.startswith(f"{fifo}: (file): not a regular file") and err == ""


@pytest.mark.parametrize("target", ["/dev/zero", "DIR", "MISSING"])
def test_devices_directories_and_missing_files_are_unreadable(tmp_path: Path, target: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = {"DIR": str(tmp_path), "MISSING": str(tmp_path / "nope.json")}.get(target, target)
    assert main([path]) == EXIT_UNREADABLE
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith(f"{path}: (file): ")


def test_stdout_full_is_one_line_on_stderr_and_exit_4(tmp_path: Path) -> None:
    p = _valid(tmp_path)
    with open("/dev/full", "w") as full:
        code, _, err, _ = run_checker(str(p), stdout=full)
    assert code == EXIT_OUTPUT
    assert err.count("\n") == 1 and err.startswith("checker: cannot write the verdict") and "Traceback" not in err


def test_stdout_closed_is_exit_4(tmp_path: Path) -> None:
    p = _valid(tmp_path)
    proc = subprocess.run([sys.executable, "-c", "import os, sys; os.close(1); from checker.cli import main; sys.exit(main(sys.argv[1:]))",
                           str(p)], stderr=subprocess.PIPE, cwd=ROOT, timeout=60)
    assert proc.returncode == EXIT_OUTPUT and b"Traceback" not in proc.stderr


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_non_ascii_names_under_a_narrow_stdout_encoding(tmp_path: Path, encoding: str) -> None:
    """A file name and a JSON key with printable non-ASCII characters: escaped, never a traceback."""
    good = _valid(tmp_path)
    named = tmp_path / "café-€.json"
    named.write_bytes(good.read_bytes())
    keyed = dump(tmp_path / "key.json", {**json.loads(good.read_text()), "clé€": 1})
    env = dict(os.environ, PYTHONIOENCODING=encoding)
    code, out, err, _ = run_checker(str(named), str(keyed), env=env)
    assert code == EXIT_MALFORMED and err == "", err
    lines = out.splitlines()
    assert len(lines) == 2 and "claim holds" in lines[0] and ": unknown key" in lines[1]


def test_the_documented_invocation_ignores_a_planted_checker(tmp_path: Path) -> None:
    """`python -I -m checker` in a directory holding a hostile checker/ runs the real one."""
    p = _valid(tmp_path)
    planted = tmp_path / "checker"
    planted.mkdir()
    (planted / "__init__.py").write_text("")
    (planted / "__main__.py").write_text("print('claim holds'); raise SystemExit(0)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # -I ignores PYTHONPATH too: ROOT must be installed or on sys.path
    proc = subprocess.run([sys.executable, "-I", "-c", "import checker, sys; print(checker.__file__)"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=60)
    assert str(planted) not in proc.stdout
    plain = subprocess.run([sys.executable, "-m", "checker", str(p)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert plain.stdout.strip() == "claim holds"  # the hazard the documentation warns about


def test_the_console_script_is_declared() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'compact-proofs-check = "checker.cli:main"' in text


@pytest.mark.parametrize("strategy", ["single-sequence", "brute-force", "cubic", "subcubic", "cubic-sharp"])
def test_counted_operations_stay_below_the_cost_bound(strategy: str) -> None:
    """On random tiny models the operations a check counts never exceed its bound (numpy ones at 1/16 unit
    each, so for brute force the counted total is compared with 16 x the bound)."""
    from checker.cost import NUMPY_PER_UNIT, Header, cost_of
    from checker.load import load_certificate_obj, weight_width
    from checker.registry import strategy_module
    from checker.verify import check_certificate
    from extract.certificate import build_certificate
    from extract.config import ModelConfig
    from extract.model import ModelWeights
    from extract.search import subcubic as search_subcubic
    from extract.strategies import ATTENTION_ERROR_MODES

    for seed, cfg in enumerate([ModelConfig(5, 3, 4, 4), ModelConfig(7, 2, 6, 3), ModelConfig(4, 4, 3, 5)]):
        w = ModelWeights.random(cfg, seed=seed, scale=2.0)
        if strategy == "subcubic":
            variants = [dict(direct_path="max_diff_exact", attention="mean+diff", attention_error=e) for e in ATTENTION_ERROR_MODES]
            certs = [build_certificate(w, strategy, k, search_subcubic.search(w, k).witness, 0) for k in variants]
        else:
            witness = {"sequence": [cfg.d_vocab - 1] * cfg.n_ctx} if strategy == "single-sequence" else {}
            certs = [build_certificate(w, strategy, {}, witness, 0)]
        for obj in certs:
            cert = load_certificate_obj(obj, "<mem>")
            width = weight_width({k: (m.rows, m.exp) for k, m in cert.weights.items()})
            h = Header(cfg.d_vocab, cfg.n_ctx, cfg.d_model, cfg.d_head, strategy, {k: str(x) for k, x in cert.knobs.items()}, width)
            bound = cost_of(h, strategy_module(strategy))
            ops = check_certificate(cert).ops
            assert ops <= (NUMPY_PER_UNIT if strategy == "brute-force" else 1) * bound, (cfg, cert.knobs, ops, bound)


# ---------------------------------------------------------------- the table of docs/adversarial.md, section 3


def _wide_scores(seed: int) -> Mantissa:
    rnd = random.Random(seed)
    return lambda name, i, j: rnd.randint(-(2**20), 2**20) if name in ("W_Q", "W_K", "W_E") else rnd.randint(-20, 20)


def _wide_mantissas(seed: int, bits: int) -> Mantissa:
    rnd = random.Random(seed)
    return lambda name, i, j: (rnd.getrandbits(bits) | (1 << (bits - 1))) * rnd.choice([1, -1])


CALIBRATION_CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "single-sequence v=256 n=8 d=16 wide": lambda: hand_certificate(256, 8, 16, 16, "single-sequence", _wide_mantissas(1, 250),
                                                                    {k: -256 for k in WEIGHT_NAMES}, witness={"sequence": [255] * 8}),
    "cubic v=64 n=4 d=16 wide": lambda: hand_certificate(64, 4, 16, 16, "cubic", _wide_mantissas(1, 250), {k: -256 for k in WEIGHT_NAMES}),
    "cubic v=256 n=2 d=8 small": lambda: hand_certificate(256, 2, 8, 8, "cubic", small(1)),
    "cubic v=128 n=4 d=8 wide scores": lambda: hand_certificate(128, 4, 8, 8, "cubic", _wide_scores(2)),
    "brute force v=32 n=4 ties": lambda: hand_certificate(32, 4, 4, 4, "brute-force", ties(3)),
    "brute force v=2 n=18 ties": lambda: hand_certificate(2, 18, 1, 1, "brute-force", ties(1)),
    "single-sequence v=1024 n=64 d=16": lambda: hand_certificate(1024, 64, 16, 16, "single-sequence", small(6),
                                                                  witness={"sequence": [5] * 64}),
}


def calibration_row(name: str, obj: dict[str, Any] | None = None, path: str | None = None) -> str:
    """One table row: bound, counted operations, CPU seconds of loading plus checking, CPU ns per bound unit."""
    from checker.cost import Header, cost_of
    from checker.load import load_certificate, load_certificate_obj, weight_width
    from checker.registry import strategy_module
    from checker.verify import check_certificate

    c0 = time.process_time()
    cert = load_certificate(path, max_ops=10**15) if path else load_certificate_obj(obj, name, max_ops=10**15)
    verdict = check_certificate(cert)
    cpu = time.process_time() - c0
    width = weight_width({k: (m.rows, m.exp) for k, m in cert.weights.items()})
    h = Header(cert.d_vocab, cert.n_ctx, cert.d_model, cert.d_head, cert.strategy, {k: str(x) for k, x in cert.knobs.items()}, width)
    bound = cost_of(h, strategy_module(cert.strategy))
    return f"| {name} ({width}-bit weights) | {bound:.2e} | {verdict.ops:.2e} | {cpu:.2f} | {cpu * 1e9 / bound:.1f} | {verdict.certified} |"


if __name__ == "__main__":  # python -m tests.test_resources [CERT.json ...]: the cost-bound table
    print("| certificate | bound | counted ops | CPU s | CPU ns per bound unit | certified |")
    print("| --- | --- | --- | --- | --- | --- |")
    for case, make in CALIBRATION_CASES.items():
        print(calibration_row(case, obj=make()), flush=True)
    for arg in sys.argv[1:]:
        print(calibration_row(Path(arg).name, path=arg), flush=True)
