"""Strict, bounded loading of a certificate file into a Certificate (certificates/FORMAT.md).

Claim established: a Certificate returned here has exactly the documented form. Its weights
are the exact dyadic matrices written in the file (shapes matching the model configuration),
its weights_sha256 equals the SHA-256 of the canonical encoding of those (normalised)
weights, its strategy is registered with a complete and valid set of knobs, the strategy's
cost bound for its header is within the budget, and its claim lies in [0, v^n]. Anything
else raises CertificateError(field, message) with a dotted field path (InputError when the
file cannot be read at all); nothing here ever creates a float (JSON numbers with a fraction
or an exponent, NaN and Infinity are rejected, as are duplicate keys and booleans).

Bounded work and memory, in this order: only a regular file is opened (a FIFO or device is
refused without blocking), and it is read only up to MAX_FILE_BYTES; before JSON parsing, a
count of brackets and commas bounds the number of containers and of values; parsing rejects
oversize integers as it meets them; a walk then bounds the nesting depth and string lengths;
the header and the weights are read (linear work) and the cost bound, which depends on the
dimensions, the strategy and the width of the weights, is checked before anything else.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from checker.certificate import (
    FORMAT_NAME,
    FORMAT_VERSION,
    WEIGHT_NAMES,
    Certificate,
    canonical_weight_encoding,
    normalise,
    weight_shapes,
)
from checker.cost import DEFAULT_MAX_OPS, Header, enforce_budget
from checker.dyadic import DMatrix
from checker.errors import CertificateError, InputError
from checker.registry import strategy_module
from checker.validate import (
    MAX_INT_DIGITS,
    describe,
    expect_int,
    expect_int_matrix,
    expect_object,
    expect_str,
)

# Limits (documented in certificates/FORMAT.md, "Limits").
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_CONTAINERS = 1 << 19  # JSON objects and arrays
MAX_VALUES = 1 << 23  # JSON values of any kind
MAX_DEPTH = 16  # nesting of objects and arrays (a valid certificate needs at most 7)
MAX_STRING_CHARS = 4096
MAX_PROVENANCE_KEYS = 64
MAX_VOCAB = 1024
MAX_CTX = 64
MAX_DIM = 1024
MAX_ABS_EXPONENT = 256
MAX_MANTISSA_BITS = 288  # every float32 tensor fits: 2^128 / 2^-149 needs 277 bits
FILE_FIELD = "(file)"

TOP_REQUIRED = ("format", "version", "model", "weights", "weights_sha256", "strategy", "witness", "claim")
TOP_OPTIONAL = ("provenance",)


class _Rejected:
    """A JSON token the checker refuses (float, NaN/Infinity, oversize integer); reported with its path."""

    __slots__ = ("text", "why")

    def __init__(self, text: str, why: str):
        self.text = text
        self.why = why


class _DupDict(dict):  # type: ignore[type-arg]
    """A JSON object in which some key occurred twice (``dup`` is that key)."""

    dup: str = ""


def _parse_float(text: str) -> _Rejected:
    return _Rejected(text, f"expected an integer, got the non-integer number {text[:24]}")


def _parse_constant(text: str) -> _Rejected:
    return _Rejected(text, f"expected an integer, got {text} (not allowed)")


def _parse_int(text: str) -> int | _Rejected:
    digits = len(text) - (text[0] == "-")
    if digits > MAX_INT_DIGITS:
        return _Rejected(text, f"integer of {digits} digits exceeds the integer size limit")
    return int(text)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            d = _DupDict(pairs)
            d.dup = k
            return d
        out[k] = v
    return out


_DECODER = json.JSONDecoder(
    parse_float=_parse_float, parse_constant=_parse_constant, parse_int=_parse_int, object_pairs_hook=_pairs
)


def read_regular_file(path: str | Path) -> bytes:
    """The bytes of the regular file at ``path`` (at most MAX_FILE_BYTES); InputError otherwise.

    The file is opened non-blocking and checked with fstat before any read, so a FIFO, a
    device or a directory is refused at once instead of blocking or streaming forever.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise InputError(f"cannot open: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError("not a regular file (a pipe, device or directory is never read)")
        if st.st_size > MAX_FILE_BYTES:
            raise CertificateError(FILE_FIELD, f"file of {st.st_size} bytes exceeds the limit of {MAX_FILE_BYTES} bytes")
        with os.fdopen(fd, "rb", closefd=True) as f:
            fd = -1
            return f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}") from None
    finally:
        if fd >= 0:
            os.close(fd)


def parse_json_bytes(data: bytes) -> Any:
    """The JSON value of ``data`` (UTF-8), with no float anywhere; CertificateError otherwise.

    Before parsing, the number of containers (at most the number of '[' and '{' bytes) and of
    values (at most 1 + commas + containers) are bounded, so memory stays proportional to the limits.
    """
    if len(data) > MAX_FILE_BYTES:
        raise CertificateError(FILE_FIELD, f"file of {len(data)} bytes exceeds the limit of {MAX_FILE_BYTES} bytes")
    if not data.strip():
        raise CertificateError(FILE_FIELD, "empty file; expected a JSON object")
    containers = data.count(b"[") + data.count(b"{")
    if containers > MAX_CONTAINERS:
        raise CertificateError(FILE_FIELD, f"up to {containers} JSON arrays and objects exceed the limit of {MAX_CONTAINERS}")
    values = 1 + data.count(b",") + containers
    if values > MAX_VALUES:
        raise CertificateError(FILE_FIELD, f"up to {values} JSON values exceed the limit of {MAX_VALUES}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CertificateError(FILE_FIELD, f"not UTF-8 text (invalid byte at offset {e.start})") from None
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as e:
        raise CertificateError(FILE_FIELD, f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise CertificateError(FILE_FIELD, "JSON nested too deeply") from None
    except ValueError as e:  # e.g. Python's integer string conversion limit
        raise CertificateError(FILE_FIELD, f"not acceptable JSON: {str(e)[:80]}") from None


def check_tokens(value: Any, path: tuple[str | int, ...] = ()) -> None:
    """Reject floats, NaN/Infinity, oversize integers, booleans, duplicate keys, nesting beyond
    MAX_DEPTH and strings beyond MAX_STRING_CHARS anywhere in ``value`` (recursion depth <= MAX_DEPTH)."""
    if isinstance(value, (dict, list)) and len(path) >= MAX_DEPTH:
        raise CertificateError(_field(path), f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        if isinstance(value, _DupDict):
            raise CertificateError(_field(path + (value.dup,)), "duplicate key")
        for k, v in value.items():
            if len(k) > MAX_STRING_CHARS:
                raise CertificateError(_field(path), f"object key of {len(k)} characters exceeds {MAX_STRING_CHARS}")
            if type(v) is not int:
                check_tokens(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if type(v) is not int:
                check_tokens(v, path + (i,))
    elif isinstance(value, _Rejected):
        raise CertificateError(_field(path) or "(top)", value.why)
    elif isinstance(value, bool):
        raise CertificateError(_field(path) or "(top)", "booleans are not allowed in a certificate; expected an integer or string")
    elif isinstance(value, str):
        if len(value) > MAX_STRING_CHARS:
            raise CertificateError(_field(path) or "(top)", f"string of {len(value)} characters exceeds {MAX_STRING_CHARS}")
    elif value is not None and type(value) is not int:
        raise CertificateError(_field(path) or "(top)", f"unexpected JSON value {describe(value)}")


def load_certificate(path: str | Path, max_ops: int = DEFAULT_MAX_OPS) -> Certificate:
    """Read and strictly validate the certificate file at ``path`` (see the module docstring)."""
    return load_certificate_obj(parse_json_bytes(read_regular_file(path)), str(path), max_ops)


def load_certificate_obj(obj: Any, source: str, max_ops: int = DEFAULT_MAX_OPS) -> Certificate:
    """Strictly validate an already parsed JSON value (see the module docstring)."""
    check_tokens(obj)
    if not isinstance(obj, dict):
        raise CertificateError("(top)", f"expected a JSON object, got {describe(obj)}")
    expect_object(obj, "", TOP_REQUIRED, TOP_OPTIONAL)
    expect_str(obj["format"], "format", (FORMAT_NAME,))
    expect_int(obj["version"], "version", FORMAT_VERSION, FORMAT_VERSION)
    if "provenance" in obj:
        _check_provenance(obj["provenance"])

    model = expect_object(obj["model"], "model", ("d_vocab", "n_ctx", "d_model", "d_head"))
    v = expect_int(model["d_vocab"], "model.d_vocab", 2, MAX_VOCAB)
    n = expect_int(model["n_ctx"], "model.n_ctx", 1, MAX_CTX)
    d = expect_int(model["d_model"], "model.d_model", 1, MAX_DIM)
    dh = expect_int(model["d_head"], "model.d_head", 1, MAX_DIM)

    sobj = expect_object(obj["strategy"], "strategy", ("name", "knobs"))
    name = expect_str(sobj["name"], "strategy.name")
    module = strategy_module(name)
    knobs = _load_knobs(sobj["knobs"], getattr(module, "KNOBS", {}))
    shapes = weight_shapes(v, n, d, dh)
    wobj = expect_object(obj["weights"], "weights", WEIGHT_NAMES)
    weights: dict[str, DMatrix] = {}
    normalised: dict[str, tuple[list[list[int]], int]] = {}
    for wname in WEIGHT_NAMES:
        weights[wname], normalised[wname] = _load_tensor(wobj[wname], f"weights.{wname}", shapes[wname])
    witness = obj["witness"]
    if not isinstance(witness, dict):
        raise CertificateError("witness", f"expected an object, got {describe(witness)}")
    sizes = tuple((key, len(val)) for key, val in witness.items() if isinstance(val, list))
    enforce_budget(Header(v, n, d, dh, name, {k: str(x) for k, x in knobs.items()}, weight_width(normalised), sizes), module, max_ops)

    digest = expect_str(obj["weights_sha256"], "weights_sha256")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise CertificateError("weights_sha256", "expected 64 lowercase hexadecimal digits")
    actual = hashlib.sha256(canonical_weight_encoding(v, n, d, dh, normalised)).hexdigest()
    if actual != digest:
        raise CertificateError("weights_sha256", f"does not match the weights (their canonical encoding hashes to {actual})")

    cobj = expect_object(obj["claim"], "claim", ("certified_count",))
    claim = expect_int(cobj["certified_count"], "claim.certified_count", 0, v**n)

    return Certificate(
        source=source,
        d_vocab=v,
        n_ctx=n,
        d_model=d,
        d_head=dh,
        weights=weights,
        weights_sha256=digest,
        strategy=name,
        knobs=knobs,
        witness=witness,
        claim=claim,
    )


def weight_width(tensors: dict[str, tuple[list[list[int]], int]]) -> int:
    """Bits needed to write every (normalised) weight over the smallest exponent: widest mantissa + exponent spread."""
    bits = max((max((abs(m).bit_length() for r in rows for m in r), default=0) for rows, _ in tensors.values()), default=0)
    exps = [e for _, e in tensors.values()]
    return bits + max(exps) - min(exps)


def _check_provenance(prov: Any) -> None:
    if not isinstance(prov, dict):
        raise CertificateError("provenance", f"expected an object, got {describe(prov)}")
    if len(prov) > MAX_PROVENANCE_KEYS:
        raise CertificateError("provenance", f"{len(prov)} keys exceed the limit of {MAX_PROVENANCE_KEYS}")
    for k, val in prov.items():
        expect_str(val, f"provenance.{k}")


def _load_tensor(value: Any, field: str, shape: tuple[int, int]) -> tuple[DMatrix, tuple[list[list[int]], int]]:
    t = expect_object(value, field, ("shape", "exponent", "mantissas"))
    raw_shape = t["shape"]
    if not isinstance(raw_shape, list) or len(raw_shape) != 2:
        raise CertificateError(f"{field}.shape", f"expected [rows, columns] as two integers, got {describe(raw_shape)}")
    sh = [expect_int(x, f"{field}.shape[{i}]", 0, MAX_DIM) for i, x in enumerate(raw_shape)]
    if (sh[0], sh[1]) != shape:
        raise CertificateError(f"{field}.shape", f"expected [{shape[0]}, {shape[1]}] for this model configuration, got [{sh[0]}, {sh[1]}]")
    exponent = expect_int(t["exponent"], f"{field}.exponent", -MAX_ABS_EXPONENT, MAX_ABS_EXPONENT)
    bound = 1 << MAX_MANTISSA_BITS
    rows = expect_int_matrix(t["mantissas"], f"{field}.mantissas", shape, -bound + 1, bound - 1)
    return DMatrix(tuple(tuple(r) for r in rows), exponent), normalise(rows, exponent)


def _load_knobs(value: Any, allowed: dict[str, tuple[str, ...]]) -> dict[str, str | int]:
    knobs = expect_object(value, "strategy.knobs", tuple(allowed))
    out: dict[str, str | int] = {}
    for k, choices in allowed.items():
        val = knobs[k]
        field = f"strategy.knobs.{k}"
        if type(val) is int:
            text = str(val)
        elif isinstance(val, str):
            text = val
        else:
            raise CertificateError(field, f"expected a string or integer, got {describe(val)}")
        if text not in choices:
            raise CertificateError(field, f"expected one of {', '.join(repr(c) for c in choices)}, got {text[:40]!r}")
        out[k] = val
    return out


def _field(path: tuple[str | int, ...]) -> str:
    """The dotted field of a JSON path: ("a", "b", 2, 0) -> "a.b[2][0]"."""
    out = ""
    for p in path:
        out = f"{out}[{p}]" if isinstance(p, int) else (f"{out}.{p}" if out else p)
    return out
