"""Strict parsing of the subcubic witness (docs/proofs/subcubic.md, "Witness").

Every witness value is untrusted: this module only checks the *form* (keys, shapes, integer
ranges) and raises CertificateError(field, message) otherwise. Whether the values are any
good is decided by the checker's inequalities, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checker.errors import CertificateError
from checker.dyadic import DVec
from checker.validate import expect_int, expect_int_list, expect_list, expect_object

MAX_VEC_BITS = 64  # |mantissa| < 2^64 for witness vectors
MAX_EPS_BITS = 512
MAX_ABS_EXP = 256
ABAR_MAX_BITS = 64
MAX_PIECES = 4

RANK_ONE_MODES = ("svd", "max_diff", "mean+max_diff", "max_diff_exact")
PEEL_MODES = (
    "max_diff_subproduct",
    "mean+max_diff_subproduct",
    "max_diff_subproduct_recursive",
    "mean+max_diff_subproduct_recursive",
    "mean_recursive+max_diff_subproduct_recursive",
)
EXACT_MODE = "exact_EQKE+max_diff_exact"


@dataclass(frozen=True)
class Peel:
    """Rank-one pieces x y^T peeled off each factor of E_q Q K^T E_key^T."""

    E_q: tuple[tuple[DVec, DVec], ...]  # (u in R^v, p in R^d)
    Q: tuple[tuple[DVec, DVec], ...]  # (x in R^d, y in R^h)
    K: tuple[tuple[DVec, DVec], ...]  # (x in R^d, y in R^h)
    E_key: tuple[tuple[DVec, DVec], ...]  # (w in R^v, r in R^d)


@dataclass(frozen=True)
class SubcubicWitness:
    gaps: list[list[list[int]]]  # [q][m][c], each in [1, v]
    abar: list[list[int]] | None  # [m][c] mantissas over 2^abar_exp, in [0, 2^-abar_exp]
    abar_exp: int
    eps: DVec | None  # per-query claimed error bounds (score units), >= 0
    rank_one: tuple[DVec, DVec] | None  # (a, b) in R^d x R^d
    peel: Peel | None
    dp_centre: DVec | None  # d-vector centre for svd_query+max_diff


def _vec(value: Any, field: str, length: int, exp: int) -> DVec:
    b = 1 << MAX_VEC_BITS
    return DVec(tuple(expect_int_list(value, field, length, -b + 1, b - 1)), exp)


def _exp(obj: dict[str, Any], field: str) -> int:
    return expect_int(obj["exp"], f"{field}.exp", -MAX_ABS_EXP, MAX_ABS_EXP)


def _pieces(value: Any, field: str, n1: int, n2: int, exp: int) -> tuple[tuple[DVec, DVec], ...]:
    items = expect_list(value, field, max_length=MAX_PIECES)
    out = []
    for i, it in enumerate(items):
        pair = expect_list(it, f"{field}[{i}]", length=2)
        out.append((_vec(pair[0], f"{field}[{i}][0]", n1, exp), _vec(pair[1], f"{field}[{i}][1]", n2, exp)))
    return tuple(out)


def parse_witness(w: Any, knobs: dict[str, str], v: int, n: int, d: int, h: int) -> SubcubicWitness:
    """Validate the witness form required by the knobs; CertificateError naming the field otherwise."""
    dp, attn, err = knobs["direct_path"], knobs["attention"], knobs["attention_error"]
    required = ["gaps"]
    if err != EXACT_MODE:
        required.append("eps")
    if err in RANK_ONE_MODES:
        required.append("rank_one")
    if err in PEEL_MODES:
        required.append("peel")
    if attn == "mean+diff":
        required.append("abar")
    if dp == "svd_query+max_diff":
        required.append("dp_centre")
    w = expect_object(w, "witness", required)

    gl = expect_list(w["gaps"], "witness.gaps", v)
    gaps = []
    for q in range(v):
        rows = expect_list(gl[q], f"witness.gaps[{q}]", v)
        gaps.append([expect_int_list(rows[m], f"witness.gaps[{q}][{m}]", n, 1, v) for m in range(v)])

    abar, abar_exp = None, 0
    if "abar" in w:
        o = expect_object(w["abar"], "witness.abar", ("exp", "values"))
        abar_exp = expect_int(o["exp"], "witness.abar.exp", -ABAR_MAX_BITS, 0)
        top = 1 << -abar_exp
        vl = expect_list(o["values"], "witness.abar.values", v)
        abar = [expect_int_list(vl[m], f"witness.abar.values[{m}]", n, 0, top) for m in range(v)]

    eps = None
    if "eps" in w:
        o = expect_object(w["eps"], "witness.eps", ("exp", "values"))
        e = _exp(o, "witness.eps")
        eps = DVec(tuple(expect_int_list(o["values"], "witness.eps.values", v, 0, (1 << MAX_EPS_BITS) - 1)), e)

    rank_one = None
    if "rank_one" in w:
        o = expect_object(w["rank_one"], "witness.rank_one", ("exp", "a", "b"))
        e = _exp(o, "witness.rank_one")
        rank_one = (_vec(o["a"], "witness.rank_one.a", d, e), _vec(o["b"], "witness.rank_one.b", d, e))

    peel = None
    if "peel" in w:
        o = expect_object(w["peel"], "witness.peel", ("exp", "E_q", "Q", "K", "E_key"))
        e = _exp(o, "witness.peel")
        peel = Peel(
            E_q=_pieces(o["E_q"], "witness.peel.E_q", v, d, e),
            Q=_pieces(o["Q"], "witness.peel.Q", d, h, e),
            K=_pieces(o["K"], "witness.peel.K", d, h, e),
            E_key=_pieces(o["E_key"], "witness.peel.E_key", v, d, e),
        )

    dp_centre = None
    if "dp_centre" in w:
        o = expect_object(w["dp_centre"], "witness.dp_centre", ("exp", "values"))
        dp_centre = _vec(o["values"], "witness.dp_centre.values", d, _exp(o, "witness.dp_centre"))

    if eps is not None and len(eps) != v:  # pragma: no cover - guarded by expect_int_list
        raise CertificateError("witness.eps.values", f"expected {v} values")
    return SubcubicWitness(gaps, abar, abar_exp, eps, rank_one, peel, dp_centre)
