"""Deciding one sequence exactly: is its max token's logit strictly above every other logit?

Claim (docs/proofs/enclosures.md, section 3 "Deciding one sequence"): decide_sequence returns True only
when the sequence is correct in the sense of semantics.md, i.e. for every x != m

    F(x) = sum_p exp(s_p - s*) * h_p(x) < 0,   s_p = (EQKE[q,t_p] + EQKP[q,p]) / sqrt(d_head),

where s* = max_p s_p (a common positive factor exp(-s*) does not change the sign) and
h_p(x) = (EUPU[q,x]-EUPU[q,m]) + (EVOU[t_p,x]-EVOU[t_p,m]) + (PVOU[p,x]-PVOU[p,m]).

Positions with the same score are grouped first (their exp factors are identical), so the
sum is over distinct exponents with exact integer coefficients G_g(x). Each factor
w_g = exp(-D_g 2^e / sqrt(d_head)) (D_g >= 0 an exact integer) is enclosed by integer
arithmetic; replacing w_g by its upper bound where G_g(x) > 0 and its lower bound where
G_g(x) < 0 gives an upper bound U(x) >= F(x), and the opposite choice a lower bound
L(x) <= F(x). U(x) < 0 for every x proves the sequence correct; L(x) >= 0 for some x proves
it incorrect. Otherwise the precision doubles, up to max_bits (then "undecided": False).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from checker.dyadic import to_fraction
from checker.exp_bounds import EXP_ARG_LIMIT, exp_dyadic
from checker.ops import OpCounter
from checker.paths import ExactPaths
from checker.sqrt_bounds import inv_sqrt_bounds

Status = Literal["correct", "incorrect", "undecided"]
START_BITS = 32
DEFAULT_MAX_BITS = 2048
CHEAP_BITS = 128  # a CappedDecider's precision before a decision counts as an escalation
FALLBACK_MAX = 128  # decisions per check taken to DEFAULT_MAX_BITS, at most; bounds the work (checker/cost.py)


class _Prepared:
    """Exact integer data of one sequence: grouped score offsets and grouped coefficients."""

    __slots__ = ("m", "score_exp", "offsets", "coeffs", "competitors", "coeff_exp")

    def __init__(self, m: int, score_exp: int, offsets: list[int], coeffs: list[list[int]], competitors: list[int], coeff_exp: int):
        self.m = m
        self.score_exp = score_exp  # the exact score offset of group g is -offsets[g] * 2^score_exp
        self.offsets = offsets
        self.coeffs = coeffs  # coeffs[i][g] = G_g(competitors[i]) * 2^-coeff_exp, exact
        self.competitors = competitors
        self.coeff_exp = coeff_exp


def _prepare(paths: ExactPaths, seq: tuple[int, ...], ops: OpCounter) -> _Prepared:
    n = len(seq)
    v = paths.EUPU.shape[1]
    if n != paths.PVOU.shape[0] or n == 0:
        raise ValueError(f"sequence length {n} does not match n_ctx {paths.PVOU.shape[0]}")
    try:
        seq = tuple(operator.index(t) for t in seq)  # ints (numpy integers too), never floats
    except TypeError:
        raise ValueError("sequence tokens must be integers") from None
    if any(not 0 <= t < v for t in seq):
        raise ValueError(f"sequence tokens must be integers in [0, {v})")
    m, q = max(seq), seq[-1]
    QE, QP = paths.EQKE, paths.EQKP
    e_s = min(QE.exp, QP.exp)
    ke, kp = QE.exp - e_s, QP.exp - e_s
    qe, qp = QE.rows[q], QP.rows[q]
    raw = [(qe[t] << ke) + (qp[p] << kp) for p, t in enumerate(seq)]
    top = max(raw)
    ops.add(n + (n - 1) + n)  # score sums, max, shifts
    groups: dict[int, list[int]] = {}
    for p, r in enumerate(raw):
        groups.setdefault(top - r, []).append(p)
    offsets = sorted(groups)
    EU, EV, PV = paths.EUPU, paths.EVOU, paths.PVOU
    e_h = min(EU.exp, EV.exp, PV.exp)
    su, sv, sp = EU.exp - e_h, EV.exp - e_h, PV.exp - e_h
    urow = EU.rows[q]
    vrows = [EV.rows[t] for t in seq]
    prows = [PV.rows[p] for p in range(n)]
    competitors = [x for x in range(v) if x != m]
    coeffs: list[list[int]] = []
    for x in competitors:
        du = (urow[x] - urow[m]) << su
        hp = [du + ((vrows[p][x] - vrows[p][m]) << sv) + ((prows[p][x] - prows[p][m]) << sp) for p in range(n)]
        coeffs.append([sum(hp[p] for p in groups[o]) for o in offsets])
    ops.add(len(competitors) * (5 * n + (n - len(offsets))))
    return _Prepared(m, e_s, offsets, coeffs, competitors, e_h)


def _weight_bounds(prep: _Prepared, d_head: int, bits: int, ops: OpCounter) -> tuple[list[int], list[int], int]:
    """Integers wl, wh and exponent E with wl[g] 2^E <= w_g <= wh[g] 2^E (w_g = exp(-offset_g 2^e / sqrt(d_head)))."""
    c_lo, c_hi = inv_sqrt_bounds(d_head, bits + 8)
    ops.add(1)
    scale = to_fraction(1, prep.score_exp)
    lows: list[tuple[int, int]] = []
    highs: list[tuple[int, int]] = []
    for off in prep.offsets:
        if off == 0:
            lows.append((1, 0))
            highs.append((1, 0))
            continue
        a_lo = -off * scale * c_hi  # the argument lies in [a_lo, a_hi], both < 0
        a_hi = -off * scale * c_lo
        ops.add(4)
        lows.append((0, 0) if a_lo < -EXP_ARG_LIMIT else exp_dyadic(a_lo, bits)[0])
        highs.append(exp_dyadic(max(a_hi, Fraction(-EXP_ARG_LIMIT)), bits)[1])
        ops.add(2)
    E = min(e for _, e in lows + highs)
    return [mm << (e - E) for mm, e in lows], [mm << (e - E) for mm, e in highs], E


def _bounds_at(coeff: list[int], wl: list[int], wh: list[int]) -> tuple[int, int]:
    """(L, U) with L <= F(x) / 2^(E + coeff_exp) <= U for one competitor's coefficients."""
    lo = hi = 0
    for c, a, b in zip(coeff, wl, wh):
        if c > 0:
            lo += c * a
            hi += c * b
        elif c < 0:
            lo += c * b
            hi += c * a
    return lo, hi


def classify_sequence(paths: ExactPaths, d_head: int, seq: tuple[int, ...], ops: OpCounter, max_bits: int = DEFAULT_MAX_BITS) -> Status:
    """'correct' / 'incorrect' only when PROVED by exact enclosures; 'undecided' if max_bits did not suffice."""
    prep = _prepare(paths, tuple(seq), ops)
    pending = list(range(len(prep.competitors)))
    bits = START_BITS
    while True:
        wl, wh, _ = _weight_bounds(prep, d_head, bits, ops)
        still: list[int] = []
        for i in pending:
            lo, hi = _bounds_at(prep.coeffs[i], wl, wh)
            ops.add(4 * len(wl) + 2)
            if lo >= 0:
                return "incorrect"
            if hi >= 0:
                still.append(i)
        pending = still
        if not pending:
            return "correct"
        if bits >= max_bits:
            return "undecided"
        bits = min(2 * bits, max_bits)


def decide_sequence(paths: ExactPaths, d_head: int, seq: tuple[int, ...], ops: OpCounter, max_bits: int = DEFAULT_MAX_BITS) -> bool:
    """True only when the sequence is PROVED correct (every competitor strictly below the max's logit)."""
    return classify_sequence(paths, d_head, seq, ops, max_bits) == "correct"


@dataclass
class CappedDecider:
    """Decides sequences one at a time within a work cap known before the check starts.

    Claim: a call returns True only when decide_sequence would, i.e. only for a sequence PROVED
    correct. Each sequence is first decided at up to CHEAP_BITS bits; at most ``escalations`` of the
    sequences left undecided there are decided again at up to DEFAULT_MAX_BITS; the others are not
    certified (False). The cap bounds the work a witness can direct (exact ties, which are
    wrong by definition, never decide and would otherwise run every precision round); it only
    ever lowers a count.
    """

    escalations: int = FALLBACK_MAX
    escalated: int = 0

    def __call__(self, paths: ExactPaths, d_head: int, seq: tuple[int, ...], ops: OpCounter) -> bool:
        status = classify_sequence(paths, d_head, seq, ops, CHEAP_BITS)
        if status == "undecided" and self.escalated < self.escalations:
            self.escalated += 1
            status = classify_sequence(paths, d_head, seq, ops)
        return status == "correct"
