"""The approximate token score E~ and the verification of the claimed per-query error bounds.

Claim (docs/proofs/subcubic.md, sections 2 and 4): with S = E_q Q K^T E_key^T (the token part of
the score, E_key = E + c_key), every function here returns an exact v x v matrix E~ and a
list ok[q] such that, whenever ok[q] holds,

    S[q,i] - S[q,j] - (E~[q,i] - E~[q,j])  <=  eps[q]        for all i, j,

where eps is the certificate's claimed per-query bound. The error S - E~ is an exact product of
factors F_1 ... F_s; each attention-error mode bounds its row differences by its own
inequality chain without forming what the mode avoids forming.
"""

from __future__ import annotations

from checker.dyadic import DMatrix, DVec, matmul
from checker.ops import OpCounter
from checker.strategies.subcubic.linalg import (
    abs_centred_matvec,
    abs_matvec,
    floor_mean_row,
    matvec,
    outer_sub,
    outer_sum,
    row_ranges,
    vec_range,
    vecmat,
)
from checker.strategies.subcubic.witness import Peel


def _add_scalar(x: DVec, s: int, se: int) -> DVec:
    e = min(x.exp, se)
    return DVec(tuple(a + (s << (se - e)) for a in x.at(e)), e)


def _prod(fs: list[DMatrix], ops: OpCounter) -> DMatrix:
    acc = fs[0]
    for f in fs[1:]:
        acc = matmul(acc, f, ops)
    return acc


def rank_one_factors(Eq: DMatrix, Ekey: DMatrix, Q: DMatrix, K: DMatrix, a: DVec, b: DVec,
                     ops: OpCounter) -> tuple[DMatrix, list[DMatrix]]:
    """E~ = (E_q a)(E_key b)^T and S - E~ = E_q (Q K^T - a b^T) E_key^T, exactly.

    Cost O(v d + d^2 d_head + v^2): the v x v product S is never formed.
    """
    v = Eq.shape[0]
    alpha = matvec(Eq, a, ops)
    beta = matvec(Ekey, b, ops)
    approx = outer_sum([(alpha, beta)], v, v, ops)
    G = outer_sub(matmul(Q, K.transpose(), ops), a, b, ops)
    return approx, [Eq, G, Ekey.transpose()]


def _residual(M: DMatrix, pieces: tuple[tuple[DVec, DVec], ...], ops: OpCounter) -> DMatrix:
    """Exact M - sum_i x_i y_i^T."""
    for x, y in pieces:
        M = outer_sub(M, x, y, ops)
    return M


def peel_factors(Eq: DMatrix, Ekey: DMatrix, Q: DMatrix, K: DMatrix, peel: Peel,
                 ops: OpCounter) -> tuple[DMatrix, list[DMatrix]]:
    """Peel rank-one pieces off each factor; E~ is the sum of the rank-one cross terms.

    With E_q = sum u p^T + R_E, Q = sum x y^T + R_Q, K = sum x' y'^T + R_K, E_key = sum w r^T + R_B:
      S = sum_i u_i (E_key K Q^T p_i)^T + sum_j (R_E x_j)(E_key K y_j)^T
          + sum_k (R_E R_Q y'_k)(E_key x'_k)^T + sum_l (R_E R_Q R_K^T r_l) w_l^T
          + R_E R_Q R_K^T R_B^T                                        (exact identity).
    Only matrix-vector products are used (cost O(v d + d d_head) per piece, O(v^2) per term).
    """
    v = Eq.shape[0]
    RE, RQ, RK, RB = (_residual(M, pieces, ops) for M, pieces in ((Eq, peel.E_q), (Q, peel.Q), (K, peel.K), (Ekey, peel.E_key)))
    Qt, RKt = Q.transpose(), RK.transpose()
    terms: list[tuple[DVec, DVec]] = []
    for u, p in peel.E_q:  # u (E_key K Q^T p)^T
        terms.append((u, matvec(Ekey, matvec(K, matvec(Qt, p, ops), ops), ops)))
    for x, y in peel.Q:  # (R_E x)(E_key K y)^T
        terms.append((matvec(RE, x, ops), matvec(Ekey, matvec(K, y, ops), ops)))
    for x, y in peel.K:  # (R_E R_Q y')(E_key x')^T
        terms.append((matvec(RE, matvec(RQ, y, ops), ops), matvec(Ekey, x, ops)))
    for w, r in peel.E_key:  # (R_E R_Q R_K^T r) w^T
        terms.append((matvec(RE, matvec(RQ, matvec(RKt, r, ops), ops), ops), w))
    approx = outer_sum(terms, v, v, ops)
    return approx, [RE, RQ, RKt, RB.transpose()]


def bounds_max_diff(fs: list[DMatrix], mean: bool, ops: OpCounter) -> list[DVec]:
    """One per split point j: a vector b with row-diff(F_1..F_s)[q] <= b[q].

    Row q of L R (L = F_1..F_j, R = F_{j+1}..F_s): (LR)[q,i] - (LR)[q,j'] = sum_l L[q,l](R[l,i] - R[l,j'])
    <= sum_l |L[q,l]| range(R[l]); with a centre mu: <= range(mu R) + sum_l |L[q,l] - mu_l| range(R[l]).
    Cost O(v d^2) (products of a v x d and d x d factors only).
    """
    s = len(fs)
    lefts = [fs[0]]
    for f in fs[1:-1]:
        lefts.append(matmul(lefts[-1], f, ops))
    rights = [fs[-1]]
    for f in reversed(fs[1:-1]):
        rights.insert(0, matmul(f, rights[0], ops))
    out = []
    for j in range(1, s):
        L, R = lefts[j - 1], rights[j - 1]
        rr = row_ranges(R, ops)
        if not mean:
            out.append(abs_matvec(L, rr, ops))
        else:
            mu = floor_mean_row(L, ops)
            r0, e0 = vec_range(vecmat(mu, R, ops), ops)
            out.append(_add_scalar(abs_centred_matvec(L, mu, rr, ops), r0, e0))
            ops.add(L.shape[0])
    return out


def bound_recursive(fs: list[DMatrix], mean_levels: set[int], ops: OpCounter) -> DVec:
    """row-diff(F_1..F_s)[q] <= b[q] using matrix-vector products only (no matrix products).

    rr(F_s) exact; rr(F_j..F_s)[i] <= |F_j[i]| rr(F_{j+1}..F_s), or with a centre mu_j at the
    levels in ``mean_levels`` (0-based): range(mu_j F_{j+1}..F_s) + |F_j[i] - mu_j| rr(F_{j+1}..F_s),
    where mu_j F_{j+1}..F_s is an exact vector-matrix chain.
    """
    s = len(fs)
    acc = row_ranges(fs[-1], ops)
    for j in range(s - 2, -1, -1):
        if j in mean_levels:
            mu = floor_mean_row(fs[j], ops)
            chain = mu
            for f in fs[j + 1:]:
                chain = vecmat(chain, f, ops)
            r0, e0 = vec_range(chain, ops)
            acc = _add_scalar(abs_centred_matvec(fs[j], mu, acc, ops), r0, e0)
            ops.add(fs[j].shape[0])
        else:
            acc = abs_matvec(fs[j], acc, ops)
    return acc


def bound_exact(fs: list[DMatrix], ops: OpCounter) -> DVec:
    """Form the error product (O(v^2 d)) and take its exact row ranges."""
    return row_ranges(_prod(fs, ops), ops)


def svd_trace_power(fs: list[DMatrix], ops: OpCounter) -> tuple[int, int]:
    """(T, e) with sigma_1(F_1 F_2 F_3)^8 <= T * 2^e (an exact Schatten-8 bound).

    Err^T Err = F_3^T Z F_3 with Z = F_2^T (F_1^T F_1) F_2 (d x d); its non-zero eigenvalues are
    those of Z C, C = F_3 F_3^T, all >= 0; so sigma_1^8 = lambda_max(ZC)^4 <= tr((ZC)^4).
    Cost O(v d^2 + d^3).
    """
    F1, F2, F3 = fs
    gram = matmul(F1.transpose(), F1, ops)
    Z = matmul(matmul(F2.transpose(), gram, ops), F2, ops)
    C = matmul(F3, F3.transpose(), ops)
    ZC = matmul(Z, C, ops)
    M2 = matmul(ZC, ZC, ops)
    d = M2.shape[0]
    ops.add(2 * d * d)
    T = sum(M2.rows[i][j] * M2.rows[j][i] for i in range(d) for j in range(d))
    return T, 2 * M2.exp


def ge(a: int, ea: int, b: int, eb: int) -> bool:
    """a 2^ea >= b 2^eb, exactly."""
    e = min(ea, eb)
    return (a << (ea - e)) >= (b << (eb - e))


def verify_eps(mode: str, fs: list[DMatrix], eps: DVec, ops: OpCounter) -> list[bool]:
    """ok[q]: the claimed eps[q] is at least the mode's proven bound on the row differences of the error."""
    v = len(eps)
    if mode == "svd":
        T, e = svd_trace_power(fs, ops)
        # row diff <= sqrt(2) sigma_1, and (sqrt(2) sigma_1)^8 = 16 sigma_1^8 <= 16 T 2^e.
        ops.add(4 * v)
        return [ge(x**8, 8 * eps.exp, 16 * T, e) for x in eps.vals]
    if mode in ("max_diff", "mean+max_diff", "max_diff_subproduct", "mean+max_diff_subproduct"):
        cands = bounds_max_diff(fs, mode.startswith("mean+"), ops)
    elif mode == "max_diff_subproduct_recursive":
        cands = [bound_recursive(fs, set(), ops)]
    elif mode == "mean+max_diff_subproduct_recursive":
        cands = [bound_recursive(fs, {0}, ops)]
    elif mode == "mean_recursive+max_diff_subproduct_recursive":
        cands = [bound_recursive(fs, set(range(len(fs) - 1)), ops)]
    elif mode == "max_diff_exact":
        cands = [bound_exact(fs, ops)]
    else:  # pragma: no cover - the caller dispatches only the modes above
        raise ValueError(mode)
    ops.add(v * len(cands))
    return [any(ge(eps.vals[q], eps.exp, c.vals[q], c.exp) for c in cands) for q in range(v)]
