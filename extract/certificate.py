"""Writing certificates (certificates/FORMAT.md): exact dyadic weights, hash, witness, claim.

Every float32 weight is the exact dyadic rational mantissa * 2^exponent; one exponent per
tensor. The checker re-derives everything from these integers: nothing written here is
trusted, it only has to be *correct* for a claim to pass. The format's definitions (name,
version, weight names, integer spelling, the canonical weight encoding that is hashed) are
the checker's (checker/certificate.py): this module imports them and defines none of its own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from checker import certificate as fmt
from checker.certificate import FORMAT_NAME, FORMAT_VERSION, WEIGHT_NAMES, json_int
from extract.config import ModelConfig
from extract.model import ModelWeights

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "WEIGHT_NAMES", "DyadicTensor", "build_certificate", "dyadic_from_float32",
           "encode_weights", "json_int", "weights_sha256", "write_certificate"]


@dataclass(frozen=True)
class DyadicTensor:
    """A 2-D tensor of exact values mantissas[i][j] * 2^exponent, normalised (see FORMAT.md)."""

    mantissas: list[list[int]]
    exponent: int

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.mantissas), len(self.mantissas[0]) if self.mantissas else 0)


def normalise(mantissas: list[list[int]], exponent: int) -> DyadicTensor:
    """Strip the common power of two (FORMAT.md): afterwards some mantissa is odd, or all are 0 with exponent 0."""
    rows, e = fmt.normalise([list(r) for r in mantissas], exponent)
    return DyadicTensor(rows, e)


def dyadic_from_float32(arr: np.ndarray) -> DyadicTensor:
    """The exact dyadic value of a 2-D float32 array (no rounding happens anywhere)."""
    if arr.dtype != np.float32 or arr.ndim != 2:
        raise ValueError("expected a 2-D float32 array")
    if not np.all(np.isfinite(arr)):
        raise ValueError("non-finite weight")
    frac, exp = np.frexp(arr.astype(np.float64))  # arr = frac * 2^exp, |frac| in [0.5, 1)
    mant = (frac * (1 << 24)).astype(np.int64)  # exact: a float32 has at most 24 significant bits
    assert np.array_equal(mant.astype(np.float64) * np.exp2(exp.astype(np.float64) - 24), arr.astype(np.float64))
    exp = exp.astype(np.int64) - 24
    nonzero = mant != 0
    base = int(exp[nonzero].min()) if nonzero.any() else 0
    rows = [
        [int(m) << int(e - base) if m else 0 for m, e in zip(mrow, erow)]
        for mrow, erow in zip(mant.tolist(), exp.tolist())
    ]
    return normalise(rows, base)


def canonical_weight_encoding(config: ModelConfig, tensors: dict[str, DyadicTensor]) -> bytes:
    """The byte string whose SHA-256 names a model (the checker's definition, FORMAT.md "Weight hash")."""
    c = config
    return fmt.canonical_weight_encoding(c.d_vocab, c.n_ctx, c.d_model, c.d_head,
                                         {n: (t.mantissas, t.exponent) for n, t in tensors.items()})


def weights_sha256(weights: ModelWeights) -> str:
    """The weights_sha256 of a model (FORMAT.md, "Weight hash")."""
    tensors = {n: dyadic_from_float32(a) for n, a in weights.tensors().items()}
    return hashlib.sha256(canonical_weight_encoding(weights.config, tensors)).hexdigest()


def encode_weights(weights: ModelWeights) -> tuple[dict[str, Any], str]:
    """The certificate's "weights" object and the SHA-256 of the canonical encoding."""
    tensors = {n: dyadic_from_float32(a) for n, a in weights.tensors().items()}
    obj = {
        name: {
            "shape": list(t.shape),
            "exponent": t.exponent,
            "mantissas": [[json_int(m) for m in row] for row in t.mantissas],
        }
        for name, t in tensors.items()
    }
    return obj, hashlib.sha256(canonical_weight_encoding(weights.config, tensors)).hexdigest()


def build_certificate(
    weights: ModelWeights,
    strategy: str,
    knobs: dict[str, str | int],
    witness: dict[str, Any],
    certified_count: int,
    provenance: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A complete certificate object (FORMAT.md). ``witness`` must hold only ints, strings, lists, dicts."""
    _assert_no_floats(witness, "witness")
    weights_obj, digest = encode_weights(weights)
    c = weights.config
    cert: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "model": {"d_vocab": c.d_vocab, "n_ctx": c.n_ctx, "d_model": c.d_model, "d_head": c.d_head},
        "weights": weights_obj,
        "weights_sha256": digest,
        "strategy": {"name": strategy, "knobs": dict(knobs)},
        "witness": witness,
        "claim": {"certified_count": json_int(int(certified_count))},
    }
    if provenance:
        cert["provenance"] = {str(k): str(v) for k, v in provenance.items()}
    return cert


def write_certificate(cert: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cert, separators=(",", ":"), sort_keys=False) + "\n")
    return path


def _assert_no_floats(obj: Any, where: str) -> None:
    if isinstance(obj, bool) or isinstance(obj, float):
        raise TypeError(f"{where}: certificates hold no floats or booleans, got {obj!r}")
    if isinstance(obj, dict):
        for k, v in obj.items():
            _assert_no_floats(v, f"{where}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _assert_no_floats(v, f"{where}[{i}]")
    elif isinstance(obj, np.generic):
        raise TypeError(f"{where}: convert numpy scalars to int before writing, got {type(obj).__name__}")
