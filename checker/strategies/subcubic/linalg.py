"""Exact dyadic vector and matrix helpers of the subcubic checker (integers only).

Matrices are checker.dyadic.DMatrix (rows * 2^exp), vectors checker.dyadic.DVec (ints * 2^exp).
Every function here is exact: no rounding anywhere (floor-means are exact *choices* of a
centre, never approximations of a value that is used as if it were exact). Operations are
counted in the OpCounter the way the paper counts FLOPs.
"""

from __future__ import annotations

from checker.dyadic import DMatrix, DVec
from checker.ops import OpCounter


def add_vec_to_rows(a: DMatrix, c: DVec, sign: int, ops: OpCounter) -> DMatrix:
    """Exact a + sign * c broadcast over the rows (sign = +1 or -1)."""
    e = min(a.exp, c.exp)
    ra, cv = a.at(e), c.at(e)
    ops.add(a.shape[0] * a.shape[1])
    if sign > 0:
        return DMatrix(tuple(tuple(x + y for x, y in zip(r, cv)) for r in ra), e)
    return DMatrix(tuple(tuple(x - y for x, y in zip(r, cv)) for r in ra), e)


def floor_mean_row(a: DMatrix, ops: OpCounter) -> DVec:
    """A centre vector: floor(sum_i a[i] / rows) at a's exponent. Any centre is sound where used."""
    rows = a.shape[0]
    ops.add(a.shape[0] * a.shape[1])
    return DVec(tuple(sum(col) // rows for col in zip(*a.rows)), a.exp)


def matvec(a: DMatrix, x: DVec, ops: OpCounter) -> DVec:
    """Exact a @ x (x a column vector)."""
    r, k = a.shape
    ops.add(r * (2 * k - 1))
    xv = x.vals
    return DVec(tuple(sum(p * q for p, q in zip(row, xv)) for row in a.rows), a.exp + x.exp)


def vecmat(x: DVec, a: DMatrix, ops: OpCounter) -> DVec:
    """Exact x @ a (x a row vector)."""
    k, c = a.shape
    ops.add(c * (2 * k - 1))
    xv = x.vals
    return DVec(tuple(sum(p * q for p, q in zip(xv, col)) for col in zip(*a.rows)), a.exp + x.exp)


def abs_matvec(a: DMatrix, x: DVec, ops: OpCounter) -> DVec:
    """Exact |a| @ x (entrywise absolute value of a)."""
    r, k = a.shape
    ops.add(r * k + r * (2 * k - 1))
    xv = x.vals
    return DVec(tuple(sum(abs(p) * q for p, q in zip(row, xv)) for row in a.rows), a.exp + x.exp)


def abs_centred_matvec(a: DMatrix, c: DVec, x: DVec, ops: OpCounter) -> DVec:
    """Exact |a - c| @ x, with c subtracted from every row."""
    e = min(a.exp, c.exp)
    ra, cv = a.at(e), c.at(e)
    r, k = a.shape
    ops.add(2 * r * k + r * (2 * k - 1))
    xv = x.vals
    return DVec(tuple(sum(abs(p - q) * w for p, q, w in zip(row, cv, xv)) for row in ra), e + x.exp)


def row_ranges(a: DMatrix, ops: OpCounter) -> DVec:
    """Exact max_j a[i,j] - min_j a[i,j] for every row i."""
    r, k = a.shape
    ops.add(r * (2 * (k - 1) + 1))
    return DVec(tuple(max(row) - min(row) for row in a.rows), a.exp)


def vec_range(x: DVec, ops: OpCounter) -> tuple[int, int]:
    """(max_i x[i] - min_i x[i], exp): the exact range of a vector."""
    ops.add(2 * (len(x) - 1) + 1)
    return max(x.vals) - min(x.vals), x.exp


def outer_sub(a: DMatrix, x: DVec, y: DVec, ops: OpCounter) -> DMatrix:
    """Exact a - x y^T."""
    e = min(a.exp, x.exp + y.exp)
    ra = a.at(e)
    s = x.exp + y.exp - e
    r, k = a.shape
    ops.add(2 * r * k)
    return DMatrix(tuple(tuple(p - ((xi * yj) << s) for p, yj in zip(row, y.vals)) for row, xi in zip(ra, x.vals)), e)


def outer_sum(terms: list[tuple[DVec, DVec]], rows: int, cols: int, ops: OpCounter) -> DMatrix:
    """Exact sum_r x_r y_r^T (a v x v matrix from rank-one terms), zero when ``terms`` is empty."""
    if not terms:
        return DMatrix(tuple(tuple(0 for _ in range(cols)) for _ in range(rows)), 0)
    e = min(x.exp + y.exp for x, y in terms)
    acc = [[0] * cols for _ in range(rows)]
    for x, y in terms:
        s = x.exp + y.exp - e
        yv = [yj << s for yj in y.vals]
        for i, xi in enumerate(x.vals):
            if xi:
                row = acc[i]
                for j, yj in enumerate(yv):
                    row[j] += xi * yj
        ops.add(2 * rows * cols)
    return DMatrix(tuple(tuple(r) for r in acc), e)
