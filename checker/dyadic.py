"""Exact dyadic matrices: integer entries with one shared power-of-two exponent.

A DMatrix denotes the real matrix rows[i][j] * 2^exp exactly. Every operation here is exact
(no rounding at all); the exponent only grows or shrinks by alignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from checker.ops import OpCounter


@dataclass(frozen=True)
class DMatrix:
    """The exact matrix rows[i][j] * 2^exp."""

    rows: tuple[tuple[int, ...], ...]
    exp: int

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.rows), len(self.rows[0]) if self.rows else 0)

    @staticmethod
    def of(rows: list[list[int]] | tuple[tuple[int, ...], ...], exp: int) -> "DMatrix":
        return DMatrix(tuple(tuple(r) for r in rows), exp)

    def entry(self, i: int, j: int) -> Fraction:
        """The exact value at (i, j)."""
        return scaled(self.rows[i][j], self.exp)

    def to_fractions(self) -> list[list[Fraction]]:
        return [[scaled(m, self.exp) for m in r] for r in self.rows]

    def transpose(self) -> "DMatrix":
        return DMatrix(tuple(zip(*self.rows)), self.exp)

    def with_exp(self, exp: int) -> "DMatrix":
        """The same values over the finer exponent ``exp`` <= self.exp (exact)."""
        if exp > self.exp:
            raise ValueError("with_exp can only refine the exponent")
        s = self.exp - exp
        return DMatrix(tuple(tuple(m << s for m in r) for r in self.rows), exp)


def scaled(m: int, exp: int) -> Fraction:
    """m * 2^exp as a Fraction."""
    return Fraction(m << exp) if exp >= 0 else Fraction(m, 1 << -exp)


def add(a: DMatrix, b: DMatrix, ops: OpCounter) -> DMatrix:
    """Exact a + b (same shape)."""
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch {a.shape} + {b.shape}")
    e = min(a.exp, b.exp)
    a, b = a.with_exp(e), b.with_exp(e)
    ops.add(a.shape[0] * a.shape[1])
    return DMatrix(tuple(tuple(x + y for x, y in zip(ra, rb)) for ra, rb in zip(a.rows, b.rows)), e)


def add_row(a: DMatrix, b: DMatrix, row: int, ops: OpCounter) -> DMatrix:
    """Exact a + (row ``row`` of b, broadcast to every row of a)."""
    if a.shape[1] != b.shape[1]:
        raise ValueError("column mismatch")
    e = min(a.exp, b.exp)
    a, b = a.with_exp(e), b.with_exp(e)
    r = b.rows[row]
    ops.add(a.shape[0] * a.shape[1])
    return DMatrix(tuple(tuple(x + y for x, y in zip(ra, r)) for ra in a.rows), e)


def matmul(a: DMatrix, b: DMatrix, ops: OpCounter) -> DMatrix:
    """Exact a @ b; counts m*n*(2k-1) operations as the paper does."""
    (m, k), (k2, n) = a.shape, b.shape
    if k != k2:
        raise ValueError(f"shape mismatch {a.shape} @ {b.shape}")
    cols = list(zip(*b.rows))
    ops.add(m * n * (2 * k - 1))
    rows = tuple(tuple(sum(x * y for x, y in zip(ra, cb)) for cb in cols) for ra in a.rows)
    return DMatrix(rows, a.exp + b.exp)


