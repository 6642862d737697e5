"""Model files: our safetensors format and TransformerLens state_dicts.

Our format is a plain safetensors file: an 8-byte little-endian header length, a JSON header
{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}
padded with spaces to a multiple of 8 bytes, then the raw little-endian float32 bytes of
W_E, W_pos, W_Q, W_K, W_V, W_O, W_U (math shapes of semantics.md) in that order. The bytes are
a deterministic function of the weights and the metadata. Files are written here (the
``safetensors`` library's writer orders tensors by dtype and name, not canonically) and read
with the ``safetensors`` library, which rejects a truncated file, trailing bytes or a bad header.

``load_model`` also reads a TransformerLens HookedTransformer state_dict for this architecture
(1 layer, 1 head, attention only, no LayerNorm) by key name, stored either as a torch
.pt/.pth file or as a safetensors file, without depending on TransformerLens. Biases must be
zero (semantics.md); anything outside the architecture is refused with a one-line
``ModelFileError`` naming the file and the key.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np

from extract.config import WEIGHT_NAMES, ModelConfig
from extract.model import ModelWeights

FORMAT_TAG = "compact-proofs-max-of-k"
MAX_HEADER_BYTES = 100_000_000
CONFIG_FIELDS = ("d_vocab", "n_ctx", "d_model", "d_head")


class ModelFileError(Exception):
    """A model file that cannot be read as this architecture; the message is one line naming
    the file and the key or field at fault."""

    def __init__(self, path: str | os.PathLike[str], key: str | None, message: str):
        self.path = str(path)
        self.key = key
        self.detail = message
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {message}".replace("\n", " "))


# --------------------------------------------------------------------------- safetensors

_ST_DTYPES: dict[str, np.dtype[Any]] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),  # item size only: reading goes through torch (extract/weights.py _tensor_entry)
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


_ST_ITEMSIZE: dict[str, int] = {name: dt.itemsize for name, dt in _ST_DTYPES.items()}


def _st_dtype_name(arr: np.ndarray) -> str:
    """The safetensors dtype name of a numpy array (BF16 is never produced)."""
    for name, st in _ST_DTYPES.items():
        if name != "BF16" and arr.dtype.kind == st.kind and arr.dtype.itemsize == st.itemsize:
            return name
    raise ValueError(f"dtype {arr.dtype} cannot be written to safetensors here")


def write_safetensors(tensors: dict[str, np.ndarray], path: str | os.PathLike[str], metadata: dict[str, str]) -> None:
    """Write ``tensors`` (in the given order) and string ``metadata`` as a safetensors file.

    Deterministic: the same arrays, order and metadata give the same bytes. Written to a
    temporary file and renamed, so a reader never sees a half-written model.
    """
    header: dict[str, Any] = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}}
    blobs: list[bytes] = []
    offset = 0
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr)
        dtype_name = _st_dtype_name(a)
        blob = a.astype(_ST_DTYPES[dtype_name], copy=False).tobytes(order="C")
        header[name] = {"dtype": dtype_name, "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    head = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    head += b" " * (-len(head) % 8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(len(head).to_bytes(8, "little"))
        f.write(head)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def read_safetensors(path: str | os.PathLike[str]) -> tuple[dict[str, tuple[str, np.ndarray]], dict[str, str]]:
    """Parse a safetensors file with the ``safetensors`` library: {name: (dtype name, array)} in
    file order, and its string metadata.

    The library decides what a valid file is (header length, JSON header, dtypes, offsets that
    tile the data exactly: a truncated file or one with trailing bytes is invalid). Any file it
    rejects raises ModelFileError with one line naming the file (and the tensor, when one entry
    is at fault) and what was expected.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise ModelFileError(path, None, f"cannot read file ({e.strerror})") from None
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
            names = list(f.offset_keys()) if hasattr(f, "offset_keys") else list(f.keys())
            tensors = {name: f.get_tensor(name) for name in names}
    except SafetensorError as e:
        key, why = _diagnose_safetensors(raw, str(e))
        raise ModelFileError(path, key, why) from None
    except Exception as e:  # the library refused the file in another way (an unusual dtype, memory): not a model
        raise ModelFileError(path, None, f"corrupt safetensors file ({type(e).__name__}: {_first_line(e)})") from None
    out: dict[str, tuple[str, np.ndarray]] = {}
    for name, t in tensors.items():
        out[name] = _tensor_entry(path, name, t)
    return out, {str(k): str(v) for k, v in metadata.items()}


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else type(e).__name__


def _diagnose_safetensors(raw: bytes, library_message: str) -> tuple[str | None, str]:
    """Why the safetensors library rejected ``raw``, as (tensor name or None, one-line reason).

    Only explains a rejection (the library has already decided); falls back to the library's
    own message when none of the named problems is found.
    """
    if len(raw) < 8:
        return None, "truncated or corrupt file: shorter than the 8-byte safetensors header length"
    n = int.from_bytes(raw[:8], "little")
    if n > MAX_HEADER_BYTES or 8 + n > len(raw):
        return None, f"truncated or corrupt safetensors file: header length {n} exceeds the file size {len(raw)}"
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, "corrupt safetensors file: header is not valid UTF-8 JSON"
    if not isinstance(header, dict):
        return None, "corrupt safetensors file: header is not a JSON object"
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        return "__metadata__", "corrupt safetensors header: expected an object of strings"
    n_data = len(raw) - 8 - n
    end = 0
    for name, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            return name, "corrupt safetensors entry: expected an object with dtype, shape, data_offsets"
        shape, offsets = entry["shape"], entry["data_offsets"]
        if not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
            return name, "corrupt safetensors entry: shape must be a list of non-negative integers"
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]
        ):
            return name, "corrupt safetensors entry: data_offsets must be [begin, end] with 0 <= begin <= end"
        itemsize = _ST_ITEMSIZE.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
        if itemsize is None:
            return name, f"unsupported dtype {entry['dtype']!r}"
        nbytes = math.prod(shape) * itemsize
        if offsets[1] - offsets[0] != nbytes:
            return name, f"corrupt safetensors entry: {offsets[1] - offsets[0]} data bytes for shape {shape} of {entry['dtype']}"
        if offsets[1] > n_data:
            return name, f"truncated file: tensor data ends at byte {offsets[1]} but only {n_data} data bytes are present"
        end = max(end, offsets[1])
    if end < n_data:
        return None, f"corrupt safetensors file: {n_data - end} trailing byte(s) after the last tensor's data"
    return None, f"corrupt safetensors file ({library_message.splitlines()[0][:200] if library_message else 'rejected'})"


def _tensor_entry(path: str | os.PathLike[str], name: str, t: Any) -> tuple[str, np.ndarray]:
    """(dtype name, numpy array) of a torch tensor read from a file; F16/BF16 widened exactly to float32."""
    import torch

    dtype_name = _TORCH_DTYPE_NAMES.get(str(t.dtype), str(t.dtype).replace("torch.", "").upper())
    if dtype_name in ("F16", "BF16"):
        return dtype_name, t.to(torch.float32).numpy().copy()
    if dtype_name in _ST_ITEMSIZE:
        return dtype_name, t.numpy().copy()
    raise ModelFileError(path, name, f"unsupported dtype {dtype_name} (expected F32)")


# --------------------------------------------------------------------------- conversions


def _exact_float32(path: str | os.PathLike[str], key: str, dtype_name: str, arr: np.ndarray) -> np.ndarray:
    """The float32 array denoting exactly the values of ``arr``; refuse anything else.

    F32 is taken as is; F16 and BF16 embed exactly in float32; F64 is accepted only when every
    value is exactly a float32 (the semantics is over the exact stored values, so no rounding).
    """
    if dtype_name in ("F32", "F16", "BF16"):
        out = np.array(arr, dtype=np.float32)
    elif dtype_name == "F64":
        out = np.array(arr, dtype=np.float32)
        with np.errstate(invalid="ignore"):
            exact = np.array_equal(out.astype(np.float64), arr, equal_nan=True)
        if not exact:
            raise ModelFileError(path, key, "wrong dtype F64: values are not exactly representable in float32 (expected F32)")
    else:
        raise ModelFileError(path, key, f"wrong dtype {dtype_name} (expected F32)")
    if not np.all(np.isfinite(out)):
        bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
        raise ModelFileError(path, key, f"{bad} non-finite value(s) (nan or inf)")
    return np.ascontiguousarray(out)


_TORCH_DTYPE_NAMES = {
    "torch.float64": "F64",
    "torch.float32": "F32",
    "torch.float16": "F16",
    "torch.bfloat16": "BF16",
    "torch.int64": "I64",
    "torch.int32": "I32",
    "torch.int16": "I16",
    "torch.int8": "I8",
    "torch.uint8": "U8",
    "torch.bool": "BOOL",
}


def _read_torch(path: str | os.PathLike[str]) -> dict[str, tuple[str, np.ndarray]]:
    """A torch state_dict file (torch.load with weights_only=True) as {key: (dtype name, array)}."""
    import torch

    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # pickle/zip errors of every kind: the file is not a readable state_dict
        msg = str(e).splitlines()[0].split(". ")[0][:160] if str(e) else type(e).__name__
        if isinstance(e, pickle.UnpicklingError) and "weights_only" in str(e).lower().replace(" ", "_"):
            raise ModelFileError(path, None, "not a plain state_dict: torch.load(weights_only=True) refuses to unpickle it "
                                             "(save model.state_dict(), not the module)") from None
        raise ModelFileError(path, None, f"truncated or corrupt torch file ({type(e).__name__}: {msg})") from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ModelFileError(path, None, f"expected a state_dict (a dict of tensors), got {type(obj).__name__}")
    out: dict[str, tuple[str, np.ndarray]] = {}
    for key, value in obj.items():
        key = str(key)
        if not isinstance(value, torch.Tensor):
            out[key] = ("OBJECT", np.empty((0,)))
            continue
        name = _TORCH_DTYPE_NAMES.get(str(value.dtype), str(value.dtype))
        try:
            t = value.detach().cpu()
            if name in ("F16", "BF16"):
                out[key] = (name, t.to(torch.float32).numpy())  # exact widening
            elif name in _ST_DTYPES:
                out[key] = (name, t.numpy())
            else:
                out[key] = (name, np.empty((0,)))
        except Exception as e:  # sparse, meta, quantized, ... tensors: not plain dense weights
            raise ModelFileError(path, key, f"cannot read this tensor as a dense array ({type(e).__name__})") from None
    return out


# --------------------------------------------------------------------------- config and shapes


def _infer_config(path: str | os.PathLike[str], shapes: dict[str, tuple[int, ...]]) -> ModelConfig:
    """The ModelConfig implied by math-shaped W_E [v,d], W_pos [n,d], W_Q [d,dh]; checks all shapes."""
    for name in ("W_E", "W_pos", "W_Q"):
        if len(shapes[name]) != 2:
            raise ModelFileError(path, name, f"wrong shape {list(shapes[name])}: expected 2 dimensions")
    v, d = shapes["W_E"]
    n = shapes["W_pos"][0]
    dh = shapes["W_Q"][1]
    try:
        config = ModelConfig(d_vocab=v, n_ctx=n, d_model=d, d_head=dh)
    except ValueError as e:
        raise ModelFileError(path, "W_E", f"impossible configuration: {e}") from None
    for name, expected in config.weight_shapes().items():
        if tuple(shapes[name]) != expected:
            raise ModelFileError(path, name, f"wrong shape {list(shapes[name])}: expected {list(expected)}")
    return config


def _weights_from_ours(path: str | os.PathLike[str], entries: dict[str, tuple[str, np.ndarray]], metadata: dict[str, str]) -> ModelWeights:
    for name in entries:
        if name not in WEIGHT_NAMES:
            raise ModelFileError(path, name, f"unexpected tensor; expected exactly {', '.join(WEIGHT_NAMES)}")
    for name in WEIGHT_NAMES:
        if name not in entries:
            raise ModelFileError(path, name, "missing tensor")
    config = _infer_config(path, {k: tuple(a.shape) for k, (_, a) in entries.items()})
    for field in CONFIG_FIELDS:
        if field in metadata and metadata[field] != str(getattr(config, field)):
            raise ModelFileError(path, f"__metadata__.{field}", f"says {metadata[field]!r} but the tensor shapes give {getattr(config, field)}")
    arrays = {name: _exact_float32(path, name, *entries[name]) for name in WEIGHT_NAMES}
    return ModelWeights(config=config, **arrays)


TL_WEIGHT_KEYS = {
    "W_E": "embed.W_E",
    "W_pos": "pos_embed.W_pos",
    "W_Q": "blocks.0.attn.W_Q",
    "W_K": "blocks.0.attn.W_K",
    "W_V": "blocks.0.attn.W_V",
    "W_O": "blocks.0.attn.W_O",
    "W_U": "unembed.W_U",
}
TL_BIAS_KEYS = ("blocks.0.attn.b_Q", "blocks.0.attn.b_K", "blocks.0.attn.b_V", "blocks.0.attn.b_O", "unembed.b_U")
TL_IGNORED_KEYS = ("blocks.0.attn.mask", "blocks.0.attn.IGNORE")
_HOOK = re.compile(r"(^|\.)hook_[A-Za-z0-9_]*($|\.)")
_LAYER = re.compile(r"^blocks\.(\d+)\.")


def _tl_key_problem(key: str) -> str | None:
    """Why a TransformerLens key is outside this architecture (None if it is a known, accepted key)."""
    if key in TL_WEIGHT_KEYS.values() or key in TL_BIAS_KEYS or key in TL_IGNORED_KEYS or _HOOK.search(key):
        return None
    m = _LAYER.match(key)
    if m and m.group(1) != "0":
        return f"more than one layer (found layer {m.group(1)}): only 1-layer models are supported"
    if ".mlp." in key or key.startswith("mlp."):
        return "unsupported architecture: MLP weights present (this is an attention-only model)"
    if re.search(r"(^|\.)ln(_final|1|2|)(\.|$)", key):
        return "unsupported architecture: LayerNorm weights present (this model has no LayerNorm)"
    return "unexpected key for a 1-layer attention-only HookedTransformer"


def _weights_from_tl(path: str | os.PathLike[str], entries: dict[str, tuple[str, np.ndarray]]) -> ModelWeights:
    for key in sorted(entries, key=lambda k: (0 if _LAYER.match(k) and not k.startswith("blocks.0.") else 1, k)):
        problem = _tl_key_problem(key)
        if problem:
            raise ModelFileError(path, key, problem)
    for key in TL_WEIGHT_KEYS.values():
        if key not in entries:
            raise ModelFileError(path, key, "missing key (expected a TransformerLens HookedTransformer state_dict)")
    for key in list(TL_WEIGHT_KEYS.values()) + [k for k in TL_BIAS_KEYS if k in entries]:
        if entries[key][0] == "OBJECT":
            raise ModelFileError(path, key, "expected a tensor")
    arrays = {key: _exact_float32(path, key, *entries[key]) for key in list(TL_WEIGHT_KEYS.values()) + [k for k in TL_BIAS_KEYS if k in entries]}
    # heads: W_Q/W_K/W_V [n_heads, d, dh], W_O [n_heads, dh, d]
    for key in ("blocks.0.attn.W_Q", "blocks.0.attn.W_K", "blocks.0.attn.W_V", "blocks.0.attn.W_O"):
        shape = arrays[key].shape
        if len(shape) != 3:
            raise ModelFileError(path, key, f"wrong shape {list(shape)}: expected [n_heads, ., .] with 3 dimensions")
        if shape[0] != 1:
            raise ModelFileError(path, key, f"{shape[0]} heads: only 1-head models are supported (expected first dimension 1)")
    for key in ("embed.W_E", "pos_embed.W_pos", "unembed.W_U"):
        if arrays[key].ndim != 2:
            raise ModelFileError(path, key, f"wrong shape {list(arrays[key].shape)}: expected 2 dimensions")
    math_arrays = {name: arrays[key][0] if arrays[key].ndim == 3 else arrays[key] for name, key in TL_WEIGHT_KEYS.items()}
    shapes = {name: tuple(a.shape) for name, a in math_arrays.items()}
    try:
        config = _infer_config(path, shapes)
    except ModelFileError as e:
        raise ModelFileError(path, TL_WEIGHT_KEYS.get(e.key or "", e.key), e.detail) from None
    expected_bias = {
        "blocks.0.attn.b_Q": (1, config.d_head),
        "blocks.0.attn.b_K": (1, config.d_head),
        "blocks.0.attn.b_V": (1, config.d_head),
        "blocks.0.attn.b_O": (config.d_model,),
        "unembed.b_U": (config.d_vocab,),
    }
    for key, shape in expected_bias.items():
        if key not in arrays:
            continue  # an absent bias is a zero bias
        if tuple(arrays[key].shape) != shape:
            raise ModelFileError(path, key, f"wrong shape {list(arrays[key].shape)}: expected {list(shape)}")
        if np.any(arrays[key] != 0):
            biggest = float(np.max(np.abs(arrays[key])))
            raise ModelFileError(path, key, f"is non-zero (max |b| = {biggest:.6g}): this architecture has zero biases, see semantics.md")
    return ModelWeights(config=config, **{name: np.ascontiguousarray(a) for name, a in math_arrays.items()})


# --------------------------------------------------------------------------- public API


def save_model(weights: ModelWeights, path: str | os.PathLike[str], metadata: dict[str, str] | None = None) -> None:
    """Write ``weights`` in our safetensors format with the config and ``metadata`` as strings.

    The bytes are a deterministic function of (weights, metadata). Metadata may not redefine
    the reserved keys (format and config fields). ``load_metadata`` reads it back.
    """
    metadata = dict(metadata or {})
    reserved = {"format": FORMAT_TAG, **{f: str(getattr(weights.config, f)) for f in CONFIG_FIELDS}}
    for key in metadata:
        if key in reserved:
            raise ValueError(f"metadata key {key!r} is reserved")
    meta = {**reserved, **{str(k): str(v) for k, v in sorted(metadata.items())}}
    write_safetensors({name: arr.astype("<f4") for name, arr in weights.tensors().items()}, path, meta)


def load_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The string metadata stored in a model file: for our files the reserved keys (format and
    config fields) plus whatever ``save_model`` was given; for a safetensors file of another
    origin its ``__metadata__``; for a torch .pt/.pth state_dict (which has none) {}.

    Validates the whole file like ``load_model`` (ModelFileError on anything it would refuse).
    """
    return read_model_file(path)[1]


def _sniff(path: str | os.PathLike[str]) -> str:
    """'torch' (zip or legacy pickle), 'safetensors', or ModelFileError."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError as e:
        raise ModelFileError(path, None, f"cannot read file ({e.strerror})") from None
    # The zip signature first, then the safetensors header start: an 8-byte header length whose low
    # byte is 0x80 (a 128-byte header) must not be taken for a legacy torch pickle.
    if head[:4] == b"PK\x03\x04":
        return "torch"
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"
    if head[:2] == b"PK" or head[:1] == b"\x80":
        return "torch"
    if len(head) < 9:
        raise ModelFileError(path, None, "truncated or corrupt file: too short to be a safetensors or torch file")
    raise ModelFileError(path, None, "not a model file: expected safetensors or a torch .pt/.pth state_dict")


def read_model_file(path: str | os.PathLike[str]) -> tuple[ModelWeights, dict[str, str]]:
    """The weights and (for safetensors files) the string metadata stored in a model file."""
    kind = _sniff(path)
    if kind == "torch":
        entries, metadata = _read_torch(path), {}
    else:
        entries, metadata = read_safetensors(path)
    if "W_E" in entries or "embed.W_E" not in entries and any(k in entries for k in WEIGHT_NAMES):
        return _weights_from_ours(path, entries, metadata), metadata
    if not entries:
        raise ModelFileError(path, None, "no tensors in the file")
    return _weights_from_tl(path, entries), metadata


def weights_from_state_dict(state_dict: Any, source: str = "<state dict>") -> ModelWeights:
    """The weights held by an in-memory state dict: our names (W_E, ..., W_U in math shapes) or a
    TransformerLens HookedTransformer state dict (``embed.W_E``, ``blocks.0.attn.W_Q``, ...), with
    torch tensors or numpy arrays as values. Same rules as ``load_model`` (exact float32 values,
    zero biases, 1 layer, 1 head, attention only); ModelFileError names ``source`` and the key.
    """
    import torch

    if not isinstance(state_dict, dict):
        raise ModelFileError(source, None, f"expected a state_dict (a dict of tensors), got {type(state_dict).__name__}")
    entries: dict[str, tuple[str, np.ndarray]] = {}
    for key, value in state_dict.items():
        key = str(key)
        if isinstance(value, torch.Tensor):
            try:
                entries[key] = _tensor_entry(source, key, value.detach().cpu())
            except ModelFileError:
                raise
            except Exception as e:  # sparse, meta, quantized, ... tensors: not plain dense weights
                raise ModelFileError(source, key, f"cannot read this tensor as a dense array ({type(e).__name__})") from None
        elif isinstance(value, np.ndarray):
            try:
                entries[key] = (_st_dtype_name(value), value)
            except ValueError:
                raise ModelFileError(source, key, f"unsupported dtype {value.dtype} (expected float32)") from None
        else:
            entries[key] = ("OBJECT", np.empty((0,)))
    if "W_E" in entries or "embed.W_E" not in entries and any(k in entries for k in WEIGHT_NAMES):
        return _weights_from_ours(source, entries, {})
    if not entries:
        raise ModelFileError(source, None, "no tensors in the state dict")
    return _weights_from_tl(source, entries)


def load_model(path: str | os.PathLike[str]) -> ModelWeights:
    """Load a model from our safetensors format or a TransformerLens state_dict (.pt/.pth or
    safetensors with TL key names); the config is inferred from the shapes.

    Raises ModelFileError (one line naming the file and key) for anything outside the
    architecture of semantics.md or any unreadable file.
    """
    return read_model_file(path)[0]


def export_transformerlens_state_dict(weights: ModelWeights) -> dict[str, Any]:
    """A TransformerLens HookedTransformer state_dict (torch tensors) for these weights:
    1 layer, 1 head, attention only, zero biases, with the causal mask and IGNORE buffers."""
    import torch

    c = weights.config
    t = {name: torch.from_numpy(arr.copy()) for name, arr in weights.tensors().items()}
    return {
        "embed.W_E": t["W_E"],
        "pos_embed.W_pos": t["W_pos"],
        "blocks.0.attn.W_Q": t["W_Q"][None],
        "blocks.0.attn.W_K": t["W_K"][None],
        "blocks.0.attn.W_V": t["W_V"][None],
        "blocks.0.attn.W_O": t["W_O"][None],
        "blocks.0.attn.b_Q": torch.zeros(1, c.d_head),
        "blocks.0.attn.b_K": torch.zeros(1, c.d_head),
        "blocks.0.attn.b_V": torch.zeros(1, c.d_head),
        "blocks.0.attn.b_O": torch.zeros(c.d_model),
        "blocks.0.attn.mask": torch.tril(torch.ones(c.n_ctx, c.n_ctx, dtype=torch.bool)),
        "blocks.0.attn.IGNORE": torch.tensor(-math.inf),
        "unembed.W_U": t["W_U"],
        "unembed.b_U": torch.zeros(c.d_vocab),
    }
