"""Every kind of malformed certificate is rejected with the exact field named, one output line, exit 2.

MALFORMED is the documentation: each row is (case name, how the file is made from a valid
certificate, the field the error must name). The valid base certificate is a tiny
single-sequence certificate; "knob-test" is a stand-in strategy with one knob, registered
by a fixture, so that knob errors can be exercised whatever strategies exist.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any, Callable

import pytest

from checker import registry
from checker.cli import main
from checker.errors import CertificateError
from checker.load import MAX_FILE_BYTES, load_certificate
from checker.verify import check_file
from extract.certificate import build_certificate
from extract.config import ModelConfig
from extract.model import ModelWeights

CFG = ModelConfig(d_vocab=6, n_ctx=3, d_model=4, d_head=4)
Maker = Callable[[dict[str, Any]], "bytes | dict[str, Any]"]


def base_certificate() -> dict[str, Any]:
    w = ModelWeights.random(CFG, 7)
    return build_certificate(w, "single-sequence", {}, {"sequence": [5, 5, 5]}, 0, {"note": "test"})


def setting(path: str, value: Any) -> Maker:
    """Set the value at a dotted path ("a.b[2][0]") and return the modified certificate."""

    def make(c: dict[str, Any]) -> dict[str, Any]:
        obj: Any = c
        parts = _parts(path)
        for p in parts[:-1]:
            obj = obj[p]
        obj[parts[-1]] = value
        return c

    return make


def deleting(path: str) -> Maker:
    def make(c: dict[str, Any]) -> dict[str, Any]:
        obj: Any = c
        parts = _parts(path)
        for p in parts[:-1]:
            obj = obj[p]
        del obj[parts[-1]]
        return c

    return make


def _parts(path: str) -> list[Any]:
    out: list[Any] = []
    for chunk in path.split("."):
        name, *idx = chunk.replace("]", "").split("[")
        out.append(name)
        out.extend(int(i) for i in idx)
    return out


def raw(data: bytes) -> Maker:
    return lambda c: data


def text_replace(old: str, new: str) -> Maker:
    """Edit the JSON text itself (for tokens Python's json cannot write: NaN, duplicate keys...)."""
    return lambda c: json.dumps(c).replace(old, new, 1).encode()


def knob_strategy(knobs: dict[str, Any]) -> Maker:
    return lambda c: {**c, "strategy": {"name": "knob-test", "knobs": knobs}}


def bump_first_mantissa(c: dict[str, Any]) -> dict[str, Any]:
    c["weights"]["W_E"]["mantissas"][0][0] += 2
    return c


def drop_last_entry_of_row1(c: dict[str, Any]) -> dict[str, Any]:
    c["weights"]["W_E"]["mantissas"][1].pop()
    return c


def nested(depth: int) -> Maker:
    return raw(b'{"format":' + b"[" * depth + b"]" * depth + b"}")


# (case, maker, expected field)
MALFORMED: list[tuple[str, Maker, str]] = [
    ("float in mantissas", setting("weights.W_E.mantissas[0][0]", 1.5), "weights.W_E.mantissas[0][0]"),
    ("integer-valued float in mantissas", setting("weights.W_E.mantissas[0][1]", 3.0), "weights.W_E.mantissas[0][1]"),
    ("exponent notation", text_replace('"exponent": ', '"exponent": 1e1, "x": '), "weights.W_E.exponent"),
    ("NaN", text_replace('"certified_count": 0', '"certified_count": NaN'), "claim.certified_count"),
    ("Infinity", text_replace('"version": 1', '"version": Infinity'), "version"),
    ("-Infinity", text_replace('"d_head": 4', '"d_head": -Infinity'), "model.d_head"),
    ("bool as int", setting("version", True), "version"),
    ("bool in witness", setting("witness.sequence[0]", False), "witness.sequence[0]"),
    ("null as int", setting("weights.W_K.mantissas[1][1]", None), "weights.W_K.mantissas[1][1]"),
    ("string not a decimal int", setting("weights.W_E.mantissas[0][1]", "12a"), "weights.W_E.mantissas[0][1]"),
    ("decimal string with a leading zero", setting("weights.W_E.mantissas[2][1]", "007"), "weights.W_E.mantissas[2][1]"),
    ("decimal string minus zero", setting("weights.W_pos.mantissas[0][0]", "-0"), "weights.W_pos.mantissas[0][0]"),
    ("wrong declared shape", setting("weights.W_Q.shape", [4, 5]), "weights.W_Q.shape"),
    ("shape not two integers", setting("weights.W_V.shape", [4]), "weights.W_V.shape"),
    ("ragged rows", drop_last_entry_of_row1, "weights.W_E.mantissas[1]"),
    ("missing row", deleting("weights.W_U.mantissas[0]"), "weights.W_U.mantissas"),
    ("model dims disagree with weights", setting("model.d_model", 5), "weights.W_E.shape"),
    ("missing top-level key", deleting("claim"), "claim"),
    ("missing nested key", deleting("model.d_head"), "model.d_head"),
    ("missing weight tensor", deleting("weights.W_O"), "weights.W_O"),
    ("unknown top-level key", setting("extra", 1), "extra"),
    ("unknown key in a tensor", setting("weights.W_E.note", "x"), "weights.W_E.note"),
    ("duplicate key", text_replace('"format": ', '"format": "x", "format": '), "format"),
    ("duplicate nested key", text_replace('"d_vocab": 6', '"d_vocab": 6, "d_vocab": 6'), "model.d_vocab"),
    ("hash mismatch", bump_first_mantissa, "weights_sha256"),
    ("hash not hexadecimal", setting("weights_sha256", "Z" * 64), "weights_sha256"),
    ("unknown strategy", setting("strategy.name", "magic"), "strategy.name"),
    ("unknown knob", setting("strategy.knobs", {"speed": "fast"}), "strategy.knobs.speed"),
    ("missing knob", knob_strategy({}), "strategy.knobs.mode"),
    ("bad knob value", knob_strategy({"mode": "c"}), "strategy.knobs.mode"),
    ("knob value of the wrong type", knob_strategy({"mode": ["a"]}), "strategy.knobs.mode"),
    ("claim negative", setting("claim.certified_count", -1), "claim.certified_count"),
    ("claim above v^n", setting("claim.certified_count", 6**3 + 1), "claim.certified_count"),
    ("oversize integer", text_replace('"certified_count": 0', '"certified_count": ' + "9" * 1300), "claim.certified_count"),
    ("oversize decimal string", setting("weights.W_E.mantissas[0][0]", "9" * 1300), "weights.W_E.mantissas[0][0]"),
    ("mantissa beyond the bit limit", setting("weights.W_E.mantissas[0][0]", str(2**4100)), "weights.W_E.mantissas[0][0]"),
    ("exponent beyond the limit", setting("weights.W_O.exponent", 5000), "weights.W_O.exponent"),
    ("vocabulary too small", setting("model.d_vocab", 1), "model.d_vocab"),
    ("context too long", setting("model.n_ctx", 65), "model.n_ctx"),
    ("wrong format name", setting("format", "some-other-format"), "format"),
    ("wrong version", setting("version", 2), "version"),
    ("witness not an object", setting("witness", [5, 5, 5]), "witness"),
    ("witness missing its sequence", setting("witness", {}), "witness.sequence"),
    ("witness with an unknown key", setting("witness.extra", 1), "witness.extra"),
    ("witness sequence too short", setting("witness.sequence", [5, 5]), "witness.sequence"),
    ("witness token out of range", setting("witness.sequence", [5, 6, 5]), "witness.sequence[1]"),
    ("provenance value not a string", setting("provenance.note", 3), "provenance.note"),
    ("provenance not an object", setting("provenance", "x"), "provenance"),
    ("not JSON", raw(b"hello, checker"), "(file)"),
    ("truncated JSON", lambda c: json.dumps(c).encode()[:-40], "(file)"),
    ("trailing garbage", lambda c: json.dumps(c).encode() + b" x", "(file)"),
    ("top-level array", raw(b"[1, 2, 3]"), "(top)"),
    ("top-level number", raw(b"42"), "(top)"),
    ("empty file", raw(b""), "(file)"),
    ("whitespace only", raw(b"  \n "), "(file)"),
    ("non-UTF-8 bytes", raw(b'{"format": "\xff\xfe"}'), "(file)"),
    ("nested too deeply", nested(200_000), "(file)"),
    ("key with a newline", setting("a\nb", 1), "a\nb"),
]


class KnobTest(types.ModuleType):
    NAME = "knob-test"
    KNOBS = {"mode": ("a", "b")}

    @staticmethod
    def cost_bound(header: Any) -> int:
        return 1

    @staticmethod
    def check(cert: Any, ops: Any) -> int:
        return 0


@pytest.fixture(autouse=True)
def knob_test_strategy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tests._knob_test_strategy", KnobTest("tests._knob_test_strategy"))
    monkeypatch.setitem(registry.STRATEGY_MODULES, "knob-test", "tests._knob_test_strategy")


def write_case(tmp_path: Path, maker: Maker) -> Path:
    made = maker(copy.deepcopy(base_certificate()))
    data = made if isinstance(made, bytes) else json.dumps(made).encode()
    path = tmp_path / "cert.json"
    path.write_bytes(data)
    return path


def test_the_table_is_large_and_its_names_unique() -> None:
    assert len(MALFORMED) >= 25
    assert len({name for name, _, _ in MALFORMED}) == len(MALFORMED)


def test_the_base_certificate_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_case(tmp_path, lambda c: c)
    assert check_file(path).ok
    assert main([str(path)]) == 0


@pytest.mark.parametrize("case,maker,field", MALFORMED, ids=[c for c, _, _ in MALFORMED])
def test_malformed_input_names_the_field(tmp_path: Path, case: str, maker: Maker, field: str) -> None:
    path = write_case(tmp_path, maker)
    with pytest.raises(CertificateError) as info:
        check_file(path)
    assert info.value.field == field, info.value


@pytest.mark.parametrize("case,maker,field", MALFORMED, ids=[c for c, _, _ in MALFORMED])
def test_malformed_input_gives_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   case: str, maker: Maker, field: str) -> None:
    path = write_case(tmp_path, maker)
    assert main([str(path)]) == 2
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 1 and err == ""
    shown = field.replace("\n", "\\n")
    assert lines[0].startswith(f"{path}: {shown}: ")
    assert "Traceback" not in out


def test_oversize_file_is_rejected_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(CertificateError) as info:
        load_certificate(path)
    assert info.value.field == "(file)" and "exceeds" in info.value.message


def test_unreadable_path_is_a_file_error(tmp_path: Path) -> None:
    for p in (tmp_path / "missing.json", tmp_path):
        with pytest.raises(CertificateError) as info:
            load_certificate(p)
        assert info.value.field == "(file)"


def test_equivalent_encodings_are_accepted(tmp_path: Path) -> None:
    """Not normalised mantissas and decimal-string integers denote the same weights: same hash."""

    def make(c: dict[str, Any]) -> dict[str, Any]:
        t = c["weights"]["W_E"]
        t["mantissas"] = [[str(2 * m) for m in row] for row in t["mantissas"]]
        t["exponent"] -= 1
        c["claim"]["certified_count"] = "0"
        return c

    assert check_file(write_case(tmp_path, make)).ok


def test_subprocess_prints_no_traceback(tmp_path: Path) -> None:
    bad = write_case(tmp_path, setting("weights.W_E.mantissas[0][0]", 0.25))
    r = subprocess.run([sys.executable, "-m", "checker", str(bad)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stdout.strip() == f"{bad}: weights.W_E.mantissas[0][0]: expected an integer, got the non-integer number 0.25"
    assert r.stderr == ""


def test_the_json_schema_accepts_a_valid_certificate_and_rejects_envelope_errors() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).resolve().parent.parent / "certificates" / "schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    cert = base_certificate()
    assert list(validator.iter_errors(cert)) == []
    for maker in (setting("extra", 1), setting("claim.certified_count", 1.5), setting("version", 2),
                  deleting("weights.W_O"), setting("weights_sha256", "Z" * 64)):
        assert list(validator.iter_errors(maker(copy.deepcopy(cert)))) != []
