"""The exact path matrices of semantics.md, as dyadic integer matrices.

With E_q = E + P[n-1]:
    EUPU = E_q U,  EVOU = E V O U,  PVOU = P V O U,  EQKE = E_q Q K^T E^T,  EQKP = E_q Q K^T P^T.
Every entry is the exact real value (the weights are exact dyadics and only +, * are used);
scores are *not* divided by sqrt(d_head) here: that factor is irrational in general and is
enclosed by the strategies (checker/sqrt_bounds.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.dyadic import DMatrix, add_row, matmul
from checker.ops import OpCounter


@dataclass(frozen=True)
class ExactPaths:
    """Exact path matrices. Shapes: EUPU, EVOU, EQKE [v,v]; PVOU [n,v]; EQKP [v,n]."""

    EUPU: DMatrix
    EVOU: DMatrix
    PVOU: DMatrix
    EQKE: DMatrix
    EQKP: DMatrix
    E_q: DMatrix


def exact_paths(weights: dict[str, DMatrix], ops: OpCounter) -> ExactPaths:
    """Compute the five path matrices exactly from the certificate's weights.

    Cost: O(v d d_head + v^2 d_head + v d^2 + v^2 d) multiply-adds, counted in ``ops``.
    """
    E, P, Q, K, V, O, U = (weights[n] for n in ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_U"))
    n = P.shape[0]
    E_q = add_row(E, P, n - 1, ops)
    EqQ = matmul(E_q, Q, ops)  # v x h
    EK = matmul(E, K, ops)  # v x h
    PK = matmul(P, K, ops)  # n x h
    VOU = matmul(matmul(V, O, ops), U, ops)  # d x v
    return ExactPaths(
        EUPU=matmul(E_q, U, ops),
        EVOU=matmul(E, VOU, ops),
        PVOU=matmul(P, VOU, ops),
        EQKE=matmul(EqQ, EK.transpose(), ops),
        EQKP=matmul(EqQ, PK.transpose(), ops),
        E_q=E_q,
    )
