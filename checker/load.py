"""Strict loading of a certificate file into a Certificate (certificates/FORMAT.md).

Claim established: a Certificate returned here has exactly the documented form. Its weights
are the exact dyadic matrices written in the file (shapes matching the model configuration),
its weights_sha256 equals the SHA-256 of the canonical encoding of those (normalised)
weights, its strategy is registered with a complete and valid set of knobs, and its claim
lies in [0, v^n]. Anything else raises CertificateError(field, message) with a dotted field
path; nothing here ever creates a float (JSON numbers with a fraction or an exponent, NaN and
Infinity are rejected, as are duplicate keys and booleans).
"""

from __future__ import annotations

import hashlib
import json
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
from checker.dyadic import DMatrix
from checker.errors import CertificateError
from checker.registry import strategy_module
from checker.validate import (
    MAX_INT_DIGITS,
    describe,
    expect_int,
    expect_int_matrix,
    expect_object,
    expect_str,
)

# Limits (documented in certificates/FORMAT.md).
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_VOCAB = 4096
MAX_CTX = 64
MAX_DIM = 4096
MAX_ABS_EXPONENT = 1100
MAX_MANTISSA_BITS = 4096
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


def parse_json_bytes(data: bytes) -> Any:
    """The JSON value of ``data`` (UTF-8), with no float anywhere; CertificateError otherwise."""
    if len(data) > MAX_FILE_BYTES:
        raise CertificateError(FILE_FIELD, f"file of {len(data)} bytes exceeds the limit of {MAX_FILE_BYTES} bytes")
    if not data.strip():
        raise CertificateError(FILE_FIELD, "empty file; expected a JSON object")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CertificateError(FILE_FIELD, f"not UTF-8 text (invalid byte at offset {e.start})") from None
    try:
        obj = _DECODER.decode(text)
    except json.JSONDecodeError as e:
        raise CertificateError(FILE_FIELD, f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise CertificateError(FILE_FIELD, "JSON nested too deeply") from None
    except ValueError as e:  # e.g. Python's integer string conversion limit
        raise CertificateError(FILE_FIELD, f"not acceptable JSON: {str(e)[:80]}") from None
    return obj


def reject_non_integer_tokens(obj: Any) -> None:
    """Walk the whole value: reject floats, NaN/Infinity, oversize integers, booleans, duplicate keys."""
    stack: list[tuple[Any, str]] = [(obj, "")]
    while stack:
        value, field = stack.pop()
        if isinstance(value, dict):
            if isinstance(value, _DupDict):
                raise CertificateError(_key(field, value.dup), "duplicate key")
            for k, v in value.items():
                if not isinstance(k, str):
                    raise CertificateError(field or "(top)", f"object key {k!r} is not a string")
                stack.append((v, _key(field, k)))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, (dict, list, _Rejected, bool, float)):
                    stack.append((v, f"{field}[{i}]"))
        elif isinstance(value, _Rejected):
            raise CertificateError(field or "(top)", value.why)
        elif isinstance(value, bool):
            raise CertificateError(field or "(top)", "booleans are not allowed in a certificate; expected an integer or string")
        elif isinstance(value, float):
            raise CertificateError(field or "(top)", "floats are not allowed in a certificate; expected an integer")


def load_certificate(path: str | Path) -> Certificate:
    """Read and strictly validate the certificate file at ``path``."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CertificateError(FILE_FIELD, f"file of {size} bytes exceeds the limit of {MAX_FILE_BYTES} bytes")
        with p.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise CertificateError(FILE_FIELD, f"cannot read: {e.strerror or e}") from None
    return load_certificate_obj(parse_json_bytes(data), str(path))


def load_certificate_obj(obj: Any, source: str) -> Certificate:
    """Strictly validate an already parsed JSON value (see the module docstring)."""
    reject_non_integer_tokens(obj)
    if not isinstance(obj, dict):
        raise CertificateError("(top)", f"expected a JSON object, got {describe(obj)}")
    expect_object(obj, "", TOP_REQUIRED, TOP_OPTIONAL)
    expect_str(obj["format"], "format", (FORMAT_NAME,))
    expect_int(obj["version"], "version", FORMAT_VERSION, FORMAT_VERSION)

    model = expect_object(obj["model"], "model", ("d_vocab", "n_ctx", "d_model", "d_head"))
    v = expect_int(model["d_vocab"], "model.d_vocab", 2, MAX_VOCAB)
    n = expect_int(model["n_ctx"], "model.n_ctx", 1, MAX_CTX)
    d = expect_int(model["d_model"], "model.d_model", 1, MAX_DIM)
    dh = expect_int(model["d_head"], "model.d_head", 1, MAX_DIM)

    shapes = weight_shapes(v, n, d, dh)
    wobj = expect_object(obj["weights"], "weights", WEIGHT_NAMES)
    weights: dict[str, DMatrix] = {}
    normalised: dict[str, tuple[list[list[int]], int]] = {}
    for name in WEIGHT_NAMES:
        weights[name], normalised[name] = _load_tensor(wobj[name], f"weights.{name}", shapes[name])

    digest = expect_str(obj["weights_sha256"], "weights_sha256")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise CertificateError("weights_sha256", "expected 64 lowercase hexadecimal digits")
    actual = hashlib.sha256(canonical_weight_encoding(v, n, d, dh, normalised)).hexdigest()
    if actual != digest:
        raise CertificateError("weights_sha256", f"does not match the weights (their canonical encoding hashes to {actual})")

    sobj = expect_object(obj["strategy"], "strategy", ("name", "knobs"))
    name = expect_str(sobj["name"], "strategy.name")
    module = strategy_module(name)
    knobs = _load_knobs(sobj["knobs"], getattr(module, "KNOBS", {}))

    witness = obj["witness"]
    if not isinstance(witness, dict):
        raise CertificateError("witness", f"expected an object, got {describe(witness)}")

    cobj = expect_object(obj["claim"], "claim", ("certified_count",))
    claim = expect_int(cobj["certified_count"], "claim.certified_count", 0, v**n)

    if "provenance" in obj:
        prov = obj["provenance"]
        if not isinstance(prov, dict):
            raise CertificateError("provenance", f"expected an object, got {describe(prov)}")
        for k, val in prov.items():
            expect_str(val, f"provenance.{k}")

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


def _key(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key
