"""The in-memory form of a certificate after strict loading (checker/load.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checker.dyadic import DMatrix

WEIGHT_NAMES: tuple[str, ...] = ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_U")


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
