"""The certificate format's definitions (certificates/FORMAT.md) and the in-memory form of a certificate.

This module is the reference for the format: its name and version, the weight names, the
integer spelling of JSON numbers and the canonical weight encoding whose SHA-256 names a
model. The untrusted writer (extract/certificate.py) imports these; nothing here imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checker.dyadic import DMatrix

FORMAT_NAME = "compact-proofs-certificate"
FORMAT_VERSION = 1
WEIGHT_NAMES: tuple[str, ...] = ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_U")
JSON_SAFE_INT = 2**53 - 1


def weight_shapes(v: int, n: int, d: int, dh: int) -> dict[str, tuple[int, int]]:
    """The mathematical shapes of the seven tensors (docs/semantics.md)."""
    return {"W_E": (v, d), "W_pos": (n, d), "W_Q": (d, dh), "W_K": (d, dh), "W_V": (d, dh), "W_O": (dh, d), "W_U": (d, v)}


def json_int(x: int) -> int | str:
    """x as written in JSON: a JSON integer, or a decimal string beyond 2^53 - 1 in absolute value."""
    return x if -JSON_SAFE_INT <= x <= JSON_SAFE_INT else str(x)


def normalise(rows: list[list[int]], exponent: int) -> tuple[list[list[int]], int]:
    """The same exact values with the common power of two stripped: some mantissa odd, or all zero with exponent 0."""
    acc = 0
    for r in rows:
        for m in r:
            acc |= m
    if acc == 0:
        return [[0] * len(r) for r in rows], 0
    shift = (acc & -acc).bit_length() - 1
    if shift == 0:
        return rows, exponent
    return [[m >> shift for m in r] for r in rows], exponent + shift


def canonical_weight_encoding(v: int, n: int, d: int, dh: int, tensors: dict[str, tuple[list[list[int]], int]]) -> bytes:
    """The byte string hashed for weights_sha256 (certificates/FORMAT.md, "Weight hash").

    ASCII lines: "compact-proofs-weights-v1 v n d dh", then per tensor in WEIGHT_NAMES order
    "NAME rows cols exponent" and one line of all mantissas (row-major, single spaces),
    each tensor given already normalised (see ``normalise``).
    """
    parts = [f"compact-proofs-weights-v1 {v} {n} {d} {dh}\n"]
    for name in WEIGHT_NAMES:
        rows, e = tensors[name]
        parts.append(f"{name} {len(rows)} {len(rows[0]) if rows else 0} {e}\n")
        parts.append(" ".join(str(m) for r in rows for m in r) + "\n")
    return "".join(parts).encode("ascii")


@dataclass(frozen=True)
class Certificate:
    """A parsed certificate. ``witness`` is the raw JSON object: each strategy validates its own."""

    source: str
    d_vocab: int
    n_ctx: int
    d_model: int
    d_head: int
    weights: dict[str, DMatrix]
    weights_sha256: str
    strategy: str
    knobs: dict[str, str | int]
    witness: dict[str, Any]
    claim: int

    @property
    def n_sequences(self) -> int:
        return self.d_vocab**self.n_ctx
