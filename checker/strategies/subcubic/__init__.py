"""Checker of the subcubic family (100 variants): the (q, m, c, gap) case split with exact arithmetic.

Soundness argument: docs/proofs/subcubic.md. check() returns the number of sequences the
certificate PROVES correct; every witness value (gaps, directions, centres, claimed error
bounds, mean attentions) is untrusted and only ever checked.

Cost classes: EVOU is always formed exactly (O(v^2 d)); the direct path is O(v d) unless its
knob ends in "exact" (EUPU formed, O(v^2 d)); the error bound is O(v d^2) for the max_diff and
svd modes, matrix-vector only for the recursive modes, and O(v^2 d) for the two exact modes;
the case split is O(v^2 n) plus O(v n^2) positional work.
"""

from __future__ import annotations

from checker.certificate import Certificate
from checker.cost import Header, exp_units, matmul_ops
from checker.dyadic import DMatrix, DVec, add_row, matmul
from checker.errors import CertificateError
from checker.ops import OpCounter
from checker.strategies.subcubic.cases import count_cases, logit_side
from checker.strategies.subcubic.direct import direct_split
from checker.strategies.subcubic.eqke import peel_factors, rank_one_factors, verify_eps
from checker.strategies.subcubic.linalg import add_vec_to_rows, floor_mean_row
from checker.strategies.subcubic.witness import EXACT_MODE, PEEL_MODES, RANK_ONE_MODES, parse_witness

NAME = "subcubic"
KNOBS: dict[str, tuple[str, ...]] = {
    "direct_path": (
        "mean_query+max_diff",
        "svd_query+max_diff",
        "max_diff",
        "max_diff_exact",
        "global_max_diff_exact",
    ),
    "attention": ("mean+diff", "per-query"),
    "attention_error": (
        "svd",
        "max_diff",
        "mean+max_diff",
        "max_diff_subproduct",
        "mean+max_diff_subproduct",
        "max_diff_subproduct_recursive",
        "mean+max_diff_subproduct_recursive",
        "mean_recursive+max_diff_subproduct_recursive",
        "max_diff_exact",
        "exact_EQKE+max_diff_exact",
    ),
}


WIDE = 4  # work units per counted operation: witness and error-bound integers carry up to a few hundred bits


def cost_bound(h: Header) -> int:
    """Work units of check() for every knob setting (checker/cost.py): the exact products
    (O(v^2 d + v d^2 + d^3) for the most expensive attention-error mode), the logit side
    O(v^2 n), the case loop O(v^2 n) and the exp enclosures of the shared ExpTable."""
    v, n, d, dh = h.d_vocab, h.n_ctx, h.d_model, h.d_head
    D = max(d, dh)
    mats = (2 * v * d + 2 * n * d + matmul_ops(dh, d, n) + matmul_ops(d, dh, n) + matmul_ops(v, d, n)
            + matmul_ops(d, dh, d) + matmul_ops(d, d, v) + matmul_ops(v, d, v) + matmul_ops(n, d, v))
    err = 4 * matmul_ops(v, D, v) + 8 * matmul_ops(D, v, D) + 8 * matmul_ops(D, D, D) + 64 * v * D + 40 * v * v
    direct = matmul_ops(v, d, v) + 8 * v * v + 4 * v * d
    logits = v * v * (2 * n + 24)
    cases = v * (2 * v + 8 * n * n + 10 * n) + v * (v + 1) // 2 * n * 80 + 3 * v * v * n + 3 * v * v
    exps = (256 + 2049 + 2 * v * n) * exp_units(48)
    return WIDE * (mats + err + direct + logits + cases) + exps


def check(cert: Certificate, ops: OpCounter) -> int:
    """The number of sequences proved correct by this certificate's subcubic proof."""
    return certified_cases(cert, ops, None)


def certified_cases(cert: Certificate, ops: OpCounter, record: list[tuple[int, int, int, int]] | None) -> int:
    """check(), optionally listing the certified cases (q, m, c, top) in ``record`` (for tests/reports)."""
    knobs = {k: str(val) for k, val in cert.knobs.items()}  # validated against KNOBS by checker.load
    v, n, d, h = cert.d_vocab, cert.n_ctx, cert.d_model, cert.d_head
    wit = parse_witness(cert.witness, knobs, v, n, d, h)
    W = cert.weights
    E, P, Q, K, V, O, U = (W[k] for k in ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_U"))

    Eq = add_row(E, P, n - 1, ops)
    c_key = floor_mean_row(P, ops)  # any key offset is exact: S + Ppos is the true score
    Ekey = add_vec_to_rows(E, c_key, +1, ops)
    Phat = add_vec_to_rows(P, c_key, -1, ops)
    Ppos = matmul(Eq, matmul(Q, matmul(K.transpose(), Phat.transpose(), ops), ops), ops)  # v x n

    VOU = matmul(matmul(V, O, ops), U, ops)
    EVOU = matmul(E, VOU, ops)
    PVOU = matmul(P, VOU, ops)

    err = knobs["attention_error"]
    approx, eps, ok = _score_approx(err, Eq, Ekey, Q, K, wit, v, ops)
    mu, dterm, dexp = direct_split(knobs["direct_path"], Eq, U, wit.dp_centre, ops)
    ls = logit_side(EVOU, PVOU, mu, dterm, dexp, ops)
    abar = wit.abar if knobs["attention"] == "mean+diff" else None
    return count_cases(v, n, h, approx, eps, ok, Ppos, ls, wit.gaps, abar, wit.abar_exp, ops, record)


def _score_approx(err: str, Eq: DMatrix, Ekey: DMatrix, Q: DMatrix, K: DMatrix, wit, v: int,
                  ops: OpCounter) -> tuple[DMatrix, DVec, list[bool]]:
    """(E~, eps, ok): E~ approximates S = E_q Q K^T E_key^T with a verified per-query error bound."""
    if err == EXACT_MODE:
        approx = matmul(matmul(Eq, Q, ops), matmul(Ekey, K, ops).transpose(), ops)
        return approx, DVec((0,) * v, 0), [True] * v
    if err in RANK_ONE_MODES:
        a, b = wit.rank_one
        approx, fs = rank_one_factors(Eq, Ekey, Q, K, a, b, ops)
    elif err in PEEL_MODES:
        approx, fs = peel_factors(Eq, Ekey, Q, K, wit.peel, ops)
    else:  # pragma: no cover - KNOBS lists exactly these
        raise CertificateError("strategy.knobs.attention_error", f"unsupported mode {err!r}")
    return approx, wit.eps, verify_eps(err, fs, wit.eps, ops)
