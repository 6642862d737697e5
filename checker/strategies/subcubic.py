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
from checker.dyadic import DMatrix, add_row, matmul
from checker.errors import CertificateError
from checker.ops import OpCounter
from checker.strategies.subcubic_cases import count_cases, logit_side
from checker.strategies.subcubic_direct import direct_split
from checker.strategies.subcubic_eqke import peel_factors, rank_one_factors, verify_eps
from checker.strategies.subcubic_linalg import DVec, add_vec_to_rows, floor_mean_row
from checker.strategies.subcubic_witness import EXACT_MODE, PEEL_MODES, RANK_ONE_MODES, parse_witness

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


def _knobs(cert: Certificate) -> dict[str, str]:
    out = {}
    for k, allowed in KNOBS.items():
        if k not in cert.knobs:
            raise CertificateError(f"strategy.knobs.{k}", "missing required knob")
        val = str(cert.knobs[k])
        if val not in allowed:
            raise CertificateError(f"strategy.knobs.{k}", f"expected one of {', '.join(allowed)}, got {val[:40]!r}")
        out[k] = val
    return out


def check(cert: Certificate, ops: OpCounter) -> int:
    """The number of sequences proved correct by this certificate's subcubic proof."""
    return certified_cases(cert, ops, None)


def certified_cases(cert: Certificate, ops: OpCounter, record: list[tuple[int, int, int, int]] | None) -> int:
    """check(), optionally listing the certified cases (q, m, c, top) in ``record`` (for tests/reports)."""
    knobs = _knobs(cert)
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
