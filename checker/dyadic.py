"""Exact dyadic numbers, vectors and matrices, and the one spelling of outward rounding.

A dyadic is m * 2^e with integers m, e. A DMatrix denotes rows[i][j] * 2^exp and a DVec
vals[i] * 2^exp (one shared exponent each). Every operation on them here is exact: no rounding
at all; the exponent only moves by alignment. Rounding happens only through the functions of
the last section, each of which states the direction it rounds (docs/proofs/enclosures.md,
section 0), so that a reader checks "rounded outward" by reading which one is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from checker.ops import OpCounter


def to_fraction(m: int, e: int) -> Fraction:
    """The exact value m * 2^e as a Fraction (the one "dyadic to fraction")."""
    return Fraction(m << e) if e >= 0 else Fraction(m, 1 << -e)


@dataclass(frozen=True)
class DMatrix:
    """The exact matrix rows[i][j] * 2^exp."""

    rows: tuple[tuple[int, ...], ...]
    exp: int

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.rows), len(self.rows[0]) if self.rows else 0)

    def to_fractions(self) -> list[list[Fraction]]:
        return [[to_fraction(m, self.exp) for m in r] for r in self.rows]

    def transpose(self) -> "DMatrix":
        return DMatrix(tuple(zip(*self.rows)), self.exp)

    def at(self, exp: int) -> list[list[int]]:
        """The mantissas over the finer exponent ``exp`` <= self.exp (exact)."""
        s = self.exp - exp
        if s < 0:
            raise ValueError("DMatrix.at can only refine the exponent")
        return [list(r) if s == 0 else [x << s for x in r] for r in self.rows]


@dataclass(frozen=True)
class DVec:
    """The exact vector vals[i] * 2^exp."""

    vals: tuple[int, ...]
    exp: int

    def __len__(self) -> int:
        return len(self.vals)

    def at(self, exp: int) -> tuple[int, ...]:
        """The mantissas over the finer exponent ``exp`` <= self.exp (exact)."""
        s = self.exp - exp
        if s < 0:
            raise ValueError("DVec.at can only refine the exponent")
        return self.vals if s == 0 else tuple(x << s for x in self.vals)


def add_row(a: DMatrix, b: DMatrix, row: int, ops: OpCounter) -> DMatrix:
    """Exact a + (row ``row`` of b, broadcast to every row of a)."""
    if a.shape[1] != b.shape[1]:
        raise ValueError("column mismatch")
    e = min(a.exp, b.exp)
    ra, r = a.at(e), b.at(e)[row]
    ops.add(a.shape[0] * a.shape[1])
    return DMatrix(tuple(tuple(x + y for x, y in zip(p, r)) for p in ra), e)


def matmul(a: DMatrix, b: DMatrix, ops: OpCounter) -> DMatrix:
    """Exact a @ b; counts m*n*(2k-1) operations as the paper does."""
    (m, k), (k2, n) = a.shape, b.shape
    if k != k2:
        raise ValueError(f"shape mismatch {a.shape} @ {b.shape}")
    cols = list(zip(*b.rows))
    ops.add(m * n * (2 * k - 1))
    rows = tuple(tuple(sum(x * y for x, y in zip(ra, cb)) for cb in cols) for ra in a.rows)
    return DMatrix(rows, a.exp + b.exp)


# Outward rounding: the only places where a value is replaced by a nearby one.


def ceil_div(a: int, b: int) -> int:
    """ceil(a / b) for integers a and b > 0 (floor(a / b) is a // b)."""
    return -((-a) // b)


def floor_shift(m: Any, s: Any) -> Any:
    """floor(m / 2^s) for s >= 0 (m, s Python or numpy integers, or numpy integer arrays): rounds down."""
    return m >> s


def ceil_shift(m: Any, s: Any) -> Any:
    """ceil(m / 2^s) for s >= 0 (m, s Python or numpy integers, or numpy integer arrays): rounds up."""
    return -((-m) >> s)


def floor_pow2(m: int, k: int) -> int:
    """floor(m * 2^k) for any integer k (exact when k >= 0)."""
    return m << k if k >= 0 else floor_shift(m, -k)


def ceil_pow2(m: int, k: int) -> int:
    """ceil(m * 2^k) for any integer k (exact when k >= 0)."""
    return m << k if k >= 0 else ceil_shift(m, -k)
