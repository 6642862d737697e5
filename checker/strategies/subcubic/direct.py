"""The direct-path (EUPU) split of the subcubic proof: a query-independent vector plus a slack.

Claim (docs/proofs/subcubic.md, section 5): for every query q, max m and competitor x != m,

    EUPU[q,x] - EUPU[q,m]  <=  (mu[x] - mu[m]) + dterm[q][m]

with (mu, dterm) returned by direct_split. mu is None when it is identically zero.
"""

from __future__ import annotations

from checker.dyadic import DMatrix, DVec, matmul
from checker.ops import OpCounter
from checker.strategies.subcubic.linalg import abs_centred_matvec, floor_mean_row, row_ranges, vecmat


def direct_split(mode: str, Eq: DMatrix, U: DMatrix, centre: DVec | None,
                 ops: OpCounter) -> tuple[DVec | None, list[list[int]], int]:
    """(mu, dterm rows [q][m] as mantissas, dterm exponent) for the direct-path knob ``mode``.

    - mean_query+max_diff / svd_query+max_diff / max_diff: with a centre c in R^d (the floor-mean
      of the rows of E_q, the witness's centre, or 0), EUPU[q,x] - EUPU[q,m] = (cU)[x] - (cU)[m]
      + sum_l (E_q[q,l] - c_l)(U[l,x] - U[l,m]) <= mu[x] - mu[m] + sum_l |E_q[q,l] - c_l| range(U[l]).
      Cost O(v d).
    - max_diff_exact: dterm[q][m] = max_{x != m} EUPU[q,x] - EUPU[q,m] (EUPU formed, O(v^2 d)).
    - global_max_diff_exact: dterm = max_q (max_x EUPU[q,x] - min_x EUPU[q,x]), one number.
    """
    v = Eq.shape[0]
    if mode in ("mean_query+max_diff", "svd_query+max_diff", "max_diff"):
        if mode == "mean_query+max_diff":
            c = floor_mean_row(Eq, ops)
        elif mode == "svd_query+max_diff":
            assert centre is not None
            c = centre
        else:
            c = DVec(tuple(0 for _ in range(Eq.shape[1])), Eq.exp)
        rr = row_ranges(U, ops)
        delta = abs_centred_matvec(Eq, c, rr, ops)
        mu = None if mode == "max_diff" else vecmat(c, U, ops)
        return mu, [[dq] * v for dq in delta.vals], delta.exp
    EUPU = matmul(Eq, U, ops)
    if mode == "max_diff_exact":
        rows = []
        for r in EUPU.rows:
            order = sorted(range(v), key=r.__getitem__, reverse=True)
            top, second = order[0], order[1]
            ops.add(2 * (v - 1) + v)
            rows.append([(r[second] if m == top else r[top]) - r[m] for m in range(v)])
        return None, rows, EUPU.exp
    if mode == "global_max_diff_exact":
        ops.add(v * (2 * (v - 1) + 1) + v - 1)
        g = max(max(r) - min(r) for r in EUPU.rows)
        return None, [[g] * v for _ in range(v)], EUPU.exp
    raise ValueError(mode)  # pragma: no cover
