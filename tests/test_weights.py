"""Model files: exact round trips, deterministic bytes, and a one-line error for every bad file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extract.cli import main as cli_main
from extract.config import WEIGHT_NAMES, ModelConfig
from extract.model import MaxOfKTransformer, ModelWeights
from extract.weights import (
    ModelFileError,
    export_transformerlens_state_dict,
    load_model,
    read_model_file,
    read_safetensors,
    save_model,
    write_safetensors,
)

CONFIG = ModelConfig(d_vocab=7, n_ctx=3, d_model=5, d_head=4)


def weights(seed: int = 0, config: ModelConfig = CONFIG) -> ModelWeights:
    return ModelWeights.random(config, seed=seed)


def same(a: ModelWeights, b: ModelWeights) -> bool:
    return a.config == b.config and all(np.array_equal(getattr(a, n), getattr(b, n)) for n in WEIGHT_NAMES)


def tl_dict(w: ModelWeights | None = None) -> dict[str, torch.Tensor]:
    return export_transformerlens_state_dict(w or weights())


def save_pt(sd: dict[str, Any], path: Path) -> Path:
    torch.save(sd, path)
    return path


def save_tl_safetensors(sd: dict[str, torch.Tensor], path: Path) -> Path:
    write_safetensors({k: v.numpy() for k, v in sd.items()}, path, {})
    return path


# ----------------------------------------------------------------------------- round trips


@given(seed=st.integers(0, 10**6), v=st.integers(2, 9), n=st.integers(1, 4), d=st.integers(1, 6), h=st.integers(1, 6))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_our_format_round_trips_exactly_with_metadata(tmp_path: Path, seed: int, v: int, n: int, d: int, h: int) -> None:
    w = weights(seed, ModelConfig(v, n, d, h))
    path = tmp_path / f"m{seed}.safetensors"
    save_model(w, path, {"seed": str(seed), "note": "x y"})
    back, meta = read_model_file(path)
    assert same(w, back)
    assert meta["seed"] == str(seed) and meta["note"] == "x y"
    assert meta["d_vocab"] == str(v) and meta["d_head"] == str(h)


def test_our_format_is_plain_safetensors_with_deterministic_bytes(tmp_path: Path) -> None:
    w = weights(1)
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    save_model(w, a, {"seed": "1"})
    save_model(weights(1), b, {"seed": "1"})
    raw = a.read_bytes()
    assert raw == b.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    assert n % 8 == 0
    header = json.loads(raw[8 : 8 + n])
    offset = 0
    for name in WEIGHT_NAMES:  # canonical order, float32, math shapes, contiguous little-endian data
        entry = header[name]
        assert entry["dtype"] == "F32" and tuple(entry["shape"]) == CONFIG.weight_shapes()[name]
        assert entry["data_offsets"][0] == offset
        data = raw[8 + n + offset : 8 + n + entry["data_offsets"][1]]
        assert np.array_equal(np.frombuffer(data, "<f4").reshape(entry["shape"]), getattr(w, name))
        offset = entry["data_offsets"][1]
    assert 8 + n + offset == len(raw)


def test_save_model_refuses_reserved_metadata_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="d_vocab"):
        save_model(weights(), tmp_path / "x.safetensors", {"d_vocab": "3"})


@pytest.mark.parametrize("container", ["pt", "pth-wrapped", "safetensors"])
def test_transformerlens_state_dict_round_trips_exactly(tmp_path: Path, container: str) -> None:
    w = weights(5)
    sd = tl_dict(w)
    assert sd["blocks.0.attn.W_Q"].shape == (1, CONFIG.d_model, CONFIG.d_head)
    assert sd["blocks.0.attn.W_O"].shape == (1, CONFIG.d_head, CONFIG.d_model)
    assert all(not sd[k].any() for k in sd if ".b_" in k)
    if container == "pt":
        path = save_pt(sd, tmp_path / "m.pt")
    elif container == "pth-wrapped":
        path = save_pt({"state_dict": sd}, tmp_path / "m.pth")
    else:
        path = save_tl_safetensors(sd, tmp_path / "tl.safetensors")
    assert same(load_model(path), w)


def test_plain_torch_state_dict_of_our_module_loads(tmp_path: Path) -> None:
    w = weights(9)
    path = save_pt(MaxOfKTransformer.from_weights(w).state_dict(), tmp_path / "ours.pt")
    assert same(load_model(path), w)


def test_transformerlens_import_tolerates_hooks_buffers_and_absent_biases(tmp_path: Path) -> None:
    w = weights(6)
    sd = tl_dict(w)
    sd["blocks.0.attn.hook_pattern.something"] = torch.zeros(1)
    del sd["unembed.b_U"]
    sd["blocks.0.attn.IGNORE"] = torch.tensor(-1e5)
    assert same(load_model(save_pt(sd, tmp_path / "m.pt")), w)


def test_exact_lower_precisions_are_accepted(tmp_path: Path) -> None:
    """F16/BF16 embed exactly in float32; F64 is accepted when every value is a float32."""
    w = weights(8)
    sd = {k: (v.double() if v.is_floating_point() and v.dim() else v) for k, v in tl_dict(w).items()}
    assert same(load_model(save_pt(sd, tmp_path / "f64.pt")), w)
    half = {k: (v.half() if v.is_floating_point() and v.dim() else v) for k, v in tl_dict(w).items()}
    back = load_model(save_pt(half, tmp_path / "f16.pt"))
    assert np.array_equal(back.W_E, half["embed.W_E"].float().numpy())


# ----------------------------------------------------------------------------- bad files


def mutate_tl(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        sd = tl_dict()
        change(sd)
        return save_pt(sd, tmp / "bad.pt")

    return make


def set_bias(key: str) -> Callable[[dict[str, Any]], None]:
    def change(sd: dict[str, Any]) -> None:
        sd[key] = sd[key].clone()
        sd[key].view(-1)[0] = 0.25

    return change


def our_file_with(change: Callable[[dict[str, np.ndarray]], None]) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        t = dict(weights().tensors())
        change(t)
        path = tmp / "bad.safetensors"
        write_safetensors(t, path, {})
        return path

    return make


def truncated(n_bytes: int, kind: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        good = tmp / ("good.pt" if kind == "pt" else "good.safetensors")
        if kind == "pt":
            save_pt(tl_dict(), good)
        else:
            save_model(weights(), good, {})
        raw = good.read_bytes()
        bad = tmp / ("bad.pt" if kind == "pt" else "bad.safetensors")
        bad.write_bytes(raw[: n_bytes if n_bytes >= 0 else len(raw) + n_bytes])
        return bad

    return make


def raw_file(data: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        p = tmp / "bad.bin"
        p.write_bytes(data)
        return p

    return make


def with_nan(key: str) -> Callable[[dict[str, Any]], None]:
    def change(t: dict[str, Any]) -> None:
        t[key] = t[key].copy() if isinstance(t[key], np.ndarray) else t[key].clone()
        t[key].reshape(-1)[0] = np.nan

    return change


def two_heads(sd: dict[str, Any]) -> None:
    for k in ("W_Q", "W_K", "W_V", "W_O"):
        key = f"blocks.0.attn.{k}"
        sd[key] = torch.cat([sd[key], sd[key]], dim=0)


BAD_FILES: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    # case: (make file, key the message must name, words it must contain)
    **{
        f"nonzero-{k}": (mutate_tl(set_bias(k)), k, "non-zero (max |b| = 0.25)")
        for k in ("blocks.0.attn.b_Q", "blocks.0.attn.b_K", "blocks.0.attn.b_V", "blocks.0.attn.b_O", "unembed.b_U")
    },
    **{
        f"missing-{k}": (mutate_tl(lambda sd, k=k: sd.pop(k)), k, "missing")
        for k in ("embed.W_E", "pos_embed.W_pos", "blocks.0.attn.W_V", "unembed.W_U")
    },
    "missing-ours-W_O": (our_file_with(lambda t: t.pop("W_O")), "W_O", "missing"),
    "wrong-shape-tl-W_U": (mutate_tl(lambda sd: sd.__setitem__("unembed.W_U", torch.zeros(CONFIG.d_model, 3))), "unembed.W_U", "wrong shape"),
    "wrong-shape-tl-bias": (mutate_tl(lambda sd: sd.__setitem__("blocks.0.attn.b_O", torch.zeros(2))), "blocks.0.attn.b_O", "wrong shape"),
    "wrong-shape-ours-W_K": (our_file_with(lambda t: t.__setitem__("W_K", np.zeros((5, 3), np.float32))), "W_K", "wrong shape"),
    "wrong-rank-tl-W_Q": (mutate_tl(lambda sd: sd.__setitem__("blocks.0.attn.W_Q", sd["blocks.0.attn.W_Q"][0])), "blocks.0.attn.W_Q", "3 dimensions"),
    "two-layers": (mutate_tl(lambda sd: sd.__setitem__("blocks.1.attn.W_Q", sd["blocks.0.attn.W_Q"])), "blocks.1.attn.W_Q", "more than one layer"),
    "two-heads": (mutate_tl(two_heads), "blocks.0.attn.W_Q", "2 heads"),
    "mlp": (mutate_tl(lambda sd: sd.__setitem__("blocks.0.mlp.W_in", torch.zeros(5, 20))), "blocks.0.mlp.W_in", "MLP"),
    "layernorm": (mutate_tl(lambda sd: sd.__setitem__("ln_final.w", torch.ones(5))), "ln_final.w", "LayerNorm"),
    "layernorm-block": (mutate_tl(lambda sd: sd.__setitem__("blocks.0.ln1.b", torch.zeros(5))), "blocks.0.ln1.b", "LayerNorm"),
    "unknown-key": (mutate_tl(lambda sd: sd.__setitem__("foo.bar", torch.zeros(5))), "foo.bar", "unexpected key"),
    "nan-tl": (mutate_tl(with_nan("pos_embed.W_pos")), "pos_embed.W_pos", "non-finite"),
    "inf-ours": (our_file_with(lambda t: t.__setitem__("W_U", np.full(t["W_U"].shape, np.inf, np.float32))), "W_U", "non-finite"),
    "nan-ours": (our_file_with(with_nan("W_E")), "W_E", "non-finite"),
    "int-dtype-ours": (our_file_with(lambda t: t.__setitem__("W_V", np.zeros((5, 4), np.int32))), "W_V", "wrong dtype I32"),
    "int-dtype-tl": (mutate_tl(lambda sd: sd.__setitem__("embed.W_E", torch.zeros(7, 5, dtype=torch.int64))), "embed.W_E", "wrong dtype I64"),
    "inexact-f64": (mutate_tl(lambda sd: sd.__setitem__("unembed.W_U", sd["unembed.W_U"].double() + 1e-12)), "unembed.W_U", "wrong dtype F64"),
    "not-a-tensor": (mutate_tl(lambda sd: sd.__setitem__("embed.W_E", 3)), "embed.W_E", "expected a tensor"),
    "truncated-pt": (truncated(-40, "pt"), "", "truncated or corrupt torch file"),
    "truncated-pt-early": (truncated(10, "pt"), "", "truncated or corrupt torch file"),
    "truncated-st-data": (truncated(-5, "st"), "W_U", "truncated"),
    "truncated-st-header": (truncated(100, "st"), "", "truncated or corrupt"),
    "truncated-st-tiny": (truncated(5, "st"), "", "truncated or corrupt"),
    "empty": (raw_file(b""), "", "truncated or corrupt"),
    "random-bytes": (raw_file(bytes(range(7, 200))), "", "not a model file"),
    "header-not-json": (raw_file((16).to_bytes(8, "little") + b"{not json at all"), "", "not valid UTF-8 JSON"),
    "header-array": (raw_file((8).to_bytes(8, "little") + b"[1,2,3] "), "", "not a model file"),
    "bad-offsets": (
        raw_file((96).to_bytes(8, "little") + json.dumps({"W_E": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}}).encode().ljust(96)),
        "W_E",
        "data bytes for shape",
    ),
    "header-list-of-entries": (raw_file((16).to_bytes(8, "little") + b'{"W_E": [1, 2]} '), "W_E", "corrupt safetensors entry"),
    "sparse-tensor": (mutate_tl(lambda sd: sd.__setitem__("embed.W_E", sd["embed.W_E"].to_sparse())), "embed.W_E", "dense"),
    "pickled-module": (lambda tmp: save_pt(MaxOfKTransformer(CONFIG), tmp / "module.pt"), "", "not a plain state_dict"),
    "pickled-list": (lambda tmp: save_pt([torch.zeros(2)], tmp / "list.pt"), "", "expected a state_dict"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_model_file_gives_one_line_error_naming_the_key(tmp_path: Path, case: str) -> None:
    make, key, words = BAD_FILES[case]
    path = make(tmp_path)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path) + ":")
    if key:
        assert f": {key}: " in message, message
    assert words in message, message


@pytest.mark.parametrize("case", ["nonzero-blocks.0.attn.b_Q", "two-heads", "truncated-st-data", "empty", "inexact-f64"])
def test_cli_accuracy_on_a_bad_file_exits_2_with_one_line(tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = BAD_FILES[case][0](tmp_path)
    assert cli_main(["accuracy", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and str(path) in err and "Traceback" not in err


def test_cli_subprocess_on_a_bad_file_has_no_traceback(tmp_path: Path) -> None:
    path = BAD_FILES["mlp"][0](tmp_path)
    proc = subprocess.run([sys.executable, "-m", "extract.cli", "accuracy", str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "blocks.0.mlp.W_in" in proc.stderr and "Traceback" not in proc.stderr


@given(data=st.data())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_corrupted_safetensors_never_escapes_as_another_exception(tmp_path: Path, data: st.DataObject) -> None:
    """Any truncation or byte flip of a valid file loads (finite float32 values) or raises ModelFileError."""
    path = tmp_path / "fuzz.safetensors"
    if not path.exists():
        save_model(weights(2), path, {"seed": "2"})
    raw = bytearray(path.read_bytes())
    cut = data.draw(st.integers(0, len(raw)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)), max_size=3))
    for i, b in flips:
        raw[i] = b
    bad = tmp_path / "fuzzed.bin"
    bad.write_bytes(bytes(raw[:cut]) if data.draw(st.booleans()) else bytes(raw))
    try:
        w = load_model(bad)
    except ModelFileError as e:
        assert "\n" not in str(e)
    else:
        assert all(np.isfinite(a).all() and a.dtype == np.float32 for a in w.tensors().values())


def test_read_safetensors_reports_entries_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_model(weights(), path, {"seed": "0"})
    entries, meta = read_safetensors(path)
    assert list(entries) == list(WEIGHT_NAMES)
    assert all(dt == "F32" for dt, _ in entries.values())
    assert meta["format"] == "compact-proofs-max-of-k"


# ----------------------------------------------------------------------------- the safetensors library as the reader


@pytest.mark.parametrize("extra", [b"x", b"\0" * 8, b" " * 3])
def test_safetensors_with_trailing_bytes_is_refused_in_one_line(tmp_path: Path, extra: bytes) -> None:
    good = tmp_path / "good.safetensors"
    save_model(weights(), good, {"seed": "0"})
    bad = tmp_path / "trailing.safetensors"
    bad.write_bytes(good.read_bytes() + extra)
    with pytest.raises(ModelFileError) as info:
        load_model(bad)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{bad}:")
    assert f"{len(extra)} trailing byte(s)" in message


def header_file(header: dict[str, Any], data: bytes, tmp: Path) -> Path:
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    path = tmp / "hdr.safetensors"
    path.write_bytes(len(head).to_bytes(8, "little") + head + data)
    return path


@pytest.mark.parametrize("case", ["metadata-not-strings", "overlapping-offsets", "unknown-dtype", "gap-between-tensors"])
def test_safetensors_with_a_bad_header_is_refused_in_one_line(tmp_path: Path, case: str) -> None:
    f32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    header, data, key = {
        "metadata-not-strings": ({"__metadata__": {"seed": 3}, "W_E": f32}, b"\0" * 8, "__metadata__"),
        "overlapping-offsets": ({"W_E": f32, "W_U": dict(f32, data_offsets=[4, 12])}, b"\0" * 12, None),
        "unknown-dtype": ({"W_E": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, "W_E"),
        "gap-between-tensors": ({"W_E": f32, "W_U": dict(f32, data_offsets=[12, 20])}, b"\0" * 20, None),
    }[case]
    path = header_file(header, data, tmp_path)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}:")
    assert "torch" not in message, message  # a 128-byte header (length byte 0x80) is not a pickle
    if key:
        assert f": {key}: " in message, message


def test_metadata_is_optional_and_read_back_by_load_metadata(tmp_path: Path) -> None:
    from extract.weights import load_metadata

    plain, tagged = tmp_path / "plain.safetensors", tmp_path / "tagged.safetensors"
    save_model(weights(), plain)
    save_model(weights(), tagged, {"recipe": "paper-max-of-4", "steps": "3000"})
    assert load_metadata(plain) == {"format": "compact-proofs-max-of-k", "d_vocab": "7", "n_ctx": "3", "d_model": "5", "d_head": "4"}
    meta = load_metadata(tagged)
    assert meta["recipe"] == "paper-max-of-4" and meta["steps"] == "3000" and meta["d_vocab"] == "7"
    assert load_metadata(save_pt(tl_dict(), tmp_path / "tl.pt")) == {}
    assert same(load_model(tagged), load_model(plain))
