"""The exhaustive exact sweep of the brute-force strategy (docs/proofs/brute_force.md, sections 5-7).

Claim established by ``exhaustive_sweep``: ``result.proved`` is the number of sequences t in {0..v-1}^n
for which it PROVED logit(x) < logit(max t) for every x != max t, and (with ``want_mask``)
``result.mask[i]`` is True exactly for those sequences (lexicographic index i = sum_p t_p v^(n-1-p)).

Organisation. Sequences are grouped by (q, m) = (query token, max token), q <= m. Within a
group every free position (0..n-2) holds a token <= m, and when q < m at least one holds m;
the group is the disjoint union over j (the first free position holding m) of the boxes
    [0, m)^j x {m} x [0, m]^(n-2-j)   (q < m),        [0, m]^(n-1)   (q = m).
For a box the upper bounds S_hi(x) = sum_p T_hi[p, x, t_p] of every sequence are formed by
int64 broadcasting (one column per sequence, one row per competitor), in chunks, and a
sequence is proved when max_x S_hi(x) < 0; per chunk, competitors whose bound is negative for
the whole chunk are skipped (Lemma 5b of the doc). Sequences not proved are gathered; those with
max_x S_lo(x) >= 0 are certainly incorrect; the rest are re-decided one by one by
checker.decide.decide_sequence at full precision, at most FALLBACK_MAX of them per check (any
further one is counted as not proved, which is always sound and keeps the work bounded).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from checker.decide import FALLBACK_MAX, decide_sequence
from checker.ops import OpCounter
from checker.paths import ExactPaths
from checker.sqrt_bounds import inv_sqrt_bounds
from checker.strategies.brute_force.tables import (
    SQRT_BITS,
    BlockDiffs,
    BlockTables,
    LogitTables,
    QueryFactors,
    attention_factors,
    logit_tables,
    rows_bounds,
)

CHUNK_ELEMENTS = 1 << 19  # int64 entries per broadcast chunk (about 4 MB: stays in cache)

Box = list[tuple[int, int]]  # one half-open interval [lo, hi) of tokens per free position


@dataclass
class SweepResult:
    """Counts of one exhaustive sweep; ``mask`` only when requested."""

    proved: int = 0
    fast_proved: int = 0
    second_proved: int = 0
    fast_refuted: int = 0
    fallback_proved: int = 0
    fallback_not_proved: int = 0
    fallback_skipped: int = 0  # undecided sequences beyond FALLBACK_MAX: not certified
    mask: np.ndarray | None = None
    unproved: list[np.ndarray] | None = None  # lexicographic indices of the sequences not proved


def boxes(q: int, m: int, k: int) -> list[Box]:
    """The disjoint boxes of free-position tokens (k free positions) of the group (q, m), q <= m."""
    if q == m:
        return [[(0, m + 1)] * k]
    out = []
    for j in range(k):
        box = [(0, m)] * j + [(m, m + 1)] + [(0, m + 1)] * (k - 1 - j)
        if all(hi > lo for lo, hi in box):
            out.append(box)
    return out


def chunks(box: Box, row_width: int) -> list[tuple[tuple[int, ...], Box]]:
    """Split a box into (fixed prefix tokens, sub-box of the remaining positions) pieces.

    Each piece has at most max(CHUNK_ELEMENTS, one split row) * row_width int64 entries: the
    first positions are fixed one value at a time until the rest fits, and the next position's
    interval is cut into slices. The pieces are disjoint and cover the box, in lexicographic order.
    """
    k = len(box)
    sizes = [hi - lo for lo, hi in box]
    rest = 1
    f = k  # positions f+1.. are kept whole; position f is sliced; positions < f are fixed
    while f > 0 and rest * sizes[f - 1] * row_width <= CHUNK_ELEMENTS:
        f -= 1
        rest *= sizes[f]
    if f == 0:
        return [((), list(box))]
    # positions f.. have product rest; position f-1 is sliced so that slice * rest fits
    f -= 1
    step = max(1, CHUNK_ELEMENTS // (rest * row_width))
    lo_f, hi_f = box[f]
    out = []
    for prefix in itertools.product(*(range(lo, hi) for lo, hi in box[:f])):
        for a in range(lo_f, hi_f, step):
            out.append((tuple(prefix), [(a, min(a + step, hi_f))] + list(box[f + 1 :])))
    return out


def _grid(base: np.ndarray, T: np.ndarray, first_pos: int, sub: Box, buf: np.ndarray, ops: OpCounter) -> np.ndarray:
    """Columns base + sum_i T[first_pos + i, :, t_i] over the product of the intervals of ``sub``.

    Layout [competitor, sequence]; sequences in lexicographic order of the sub-box. The last
    (largest) sum is written into ``buf`` to avoid a fresh allocation per chunk.
    """
    w = T.shape[1]
    S = base[:, None]
    for i, (lo, hi) in enumerate(sub):
        part = T[first_pos + i, :, lo:hi]
        size = S.shape[1] * (hi - lo)
        if i == len(sub) - 1 and w * size <= buf.size:
            out = buf[: w * size].reshape(w, S.shape[1], hi - lo)
            S = np.add(S[:, :, None], part[:, None, :], out=out).reshape(w, size)
        else:
            S = (S[:, :, None] + part[:, None, :]).reshape(w, size)
        ops.add(S.size)
    return S


def _tokens_of_rows(rows: np.ndarray, q: int, prefix: tuple[int, ...], sub: Box, n: int) -> np.ndarray:
    """The full token sequences [len(rows), n] of the given row numbers of a chunk."""
    out = np.empty((len(rows), n), dtype=np.int64)
    for i, t in enumerate(prefix):
        out[:, i] = t
    sizes = [hi - lo for lo, hi in sub]
    if sizes:
        idx = np.unravel_index(rows, sizes)
        for i, (lo, _) in enumerate(sub):
            out[:, len(prefix) + i] = idx[i] + lo
    out[:, n - 1] = q
    return out


def _seq_index(tokens: np.ndarray, v: int) -> np.ndarray:
    """Lexicographic index sum_p t_p v^(n-1-p) of each row."""
    idx = np.zeros(len(tokens), dtype=np.int64)
    for p in range(tokens.shape[1]):
        idx = idx * v + tokens[:, p]
    return idx


def exhaustive_sweep(paths: ExactPaths, d_head: int, ops: OpCounter, want_mask: bool = False, want_unproved: bool = False) -> SweepResult:
    """Decide every sequence exactly; count (and optionally mark, or list the others) the ones PROVED correct."""
    v = paths.EUPU.shape[1]
    n = paths.PVOU.shape[0]
    res = SweepResult()
    if want_mask:
        res.mask = np.zeros(v**n, dtype=bool)
    if want_unproved:
        res.unproved = []
    if v < 2:
        return res  # no competitor exists (v = 1): certify nothing, which is always sound
    rho_lo, rho_hi = inv_sqrt_bounds(d_head, SQRT_BITS)
    ops.add(1)  # the enclosure of 1/sqrt(d_head)
    tabs = logit_tables(paths, n, ops)
    k = n - 1
    buf = np.empty(CHUNK_ELEMENTS, dtype=np.int64)
    for q in range(v):
        fac = attention_factors(paths, q, rho_lo, rho_hi, ops)
        for m in range(q, v):
            bt = BlockTables(fac, tabs, q, m, ops)
            undecided = _sweep_group(bt, q, m, k, v, n, buf, res, ops)
            if undecided is not None:
                _settle(paths, d_head, fac, tabs, bt.diffs, undecided, v, res, ops)
    return res


def kept_competitors(ub: np.ndarray) -> np.ndarray:
    """The competitors j that may fail somewhere in a chunk: those whose upper bound ub[j] >= 0
    (Lemma 5b of docs/proofs/brute_force.md: any other one is below 0 for every sequence of it)."""
    return np.flatnonzero(ub >= 0)


def _sweep_group(bt: BlockTables, q: int, m: int, k: int, v: int, n: int, buf: np.ndarray, res: SweepResult,
                 ops: OpCounter) -> np.ndarray | None:
    """Fast-path every sequence of group (q, m) with the upper table T [n, v-1, m+1]; return the
    tokens of the sequences neither proved nor refuted (None if there are none).

    Per chunk, a competitor x whose bound b[x] + sum_i max_{t in interval i} T[p_i, x, t] is
    already negative is dropped (it cannot fail for any sequence of the chunk); the grid is
    formed over the remaining competitors only (docs/proofs/brute_force.md, Lemma 5b). When a
    chunk has sequences not proved, the same grid is formed with the lower table: a sequence
    with some lower bound >= 0 is certainly incorrect (refuted) and is not examined further.
    """
    T = bt.T_hi
    width = T.shape[1]
    base = T[n - 1, :, q]
    left: list[np.ndarray] = []
    for box in boxes(q, m, k):
        for prefix, sub in chunks(box, width):
            b = base.copy()
            for i, t in enumerate(prefix):
                b += T[i, :, t]
            ub = b.copy()
            for i, (lo, hi) in enumerate(sub):
                ub += T[len(prefix) + i, :, lo:hi].max(axis=1)
            ops.add(len(prefix) * width + sum(hi - lo + 1 for lo, hi in sub) * width + width)
            keep = kept_competitors(ub)
            rows = int(np.prod([hi - lo for lo, hi in sub])) if sub else 1
            if keep.size == 0:
                proved = np.ones(rows, dtype=bool)
            else:
                Tk = T[:, keep, :] if keep.size < width else T
                S = _grid(b[keep], Tk, len(prefix), sub, buf, ops)
                proved = S.max(axis=0) < 0
                ops.add(S.size)  # (kept - 1) compares for the max and one for the sign, per sequence
            c = int(proved.sum())
            res.proved += c
            res.fast_proved += c
            if c == rows and res.mask is None:
                continue
            rows_all = np.arange(rows)
            if res.mask is not None and c:
                res.mask[_seq_index(_tokens_of_rows(rows_all[proved], q, prefix, sub, n), v)] = True
            if c == rows:
                continue
            # refutation on the kept competitors (a dropped x has S_lo(x) <= S_hi(x) < 0)
            L = bt.lower(ops)[:, keep, :]
            lb = L[n - 1, :, q].copy()
            for i, t in enumerate(prefix):
                lb += L[i, :, t]
            ops.add(len(prefix) * keep.size)
            S_lo = _grid(lb, L, len(prefix), sub, buf, ops)
            refuted = (S_lo.max(axis=0) >= 0) & ~proved
            ops.add(S_lo.size)
            res.fast_refuted += int(refuted.sum())
            if res.unproved is not None and refuted.any():
                res.unproved.append(_seq_index(_tokens_of_rows(rows_all[refuted], q, prefix, sub, n), v))
            rest = ~proved & ~refuted
            if rest.any():
                left.append(_tokens_of_rows(rows_all[rest], q, prefix, sub, n))
    return np.concatenate(left) if left else None


SETTLE_ROWS = 1 << 13  # sequences per second-pass batch (bounds the [rows, v-1] temporaries)


def _settle(paths: ExactPaths, d_head: int, fac: QueryFactors, tabs: LogitTables, diffs: BlockDiffs,
            tokens: np.ndarray, v: int, res: SweepResult, ops: OpCounter) -> None:
    """Sequences of one group the fast path did not prove.

    Second pass with per-sequence normalised weights: proved when max_x S_hi < 0, certainly
    incorrect when max_x S_lo >= 0; every other sequence is decided by decide_sequence.
    """
    for start in range(0, len(tokens), SETTLE_ROWS):
        _settle_batch(paths, d_head, fac, tabs, diffs, tokens[start : start + SETTLE_ROWS], v, res, ops)


def _settle_batch(paths: ExactPaths, d_head: int, fac: QueryFactors, tabs: LogitTables, diffs: BlockDiffs,
                  tokens: np.ndarray, v: int, res: SweepResult, ops: OpCounter) -> None:
    S_lo, S_hi = rows_bounds(fac, tabs, diffs, tokens, ops)
    proved = S_hi.max(axis=1) < 0
    refuted = S_lo.max(axis=1) >= 0
    ops.add(2 * S_hi.size)
    c = int(proved.sum())
    res.proved += c
    res.second_proved += c
    res.fast_refuted += int(refuted.sum())
    if res.mask is not None and c:
        res.mask[_seq_index(tokens[proved], v)] = True
    if res.unproved is not None:
        res.unproved.append(_seq_index(tokens[refuted & ~proved], v))
    rest = tokens[~proved & ~refuted]
    room = max(0, FALLBACK_MAX - res.fallback_proved - res.fallback_not_proved)
    if len(rest) > room:  # beyond the cap a sequence is simply not certified (always sound)
        res.fallback_skipped += len(rest) - room
        if res.unproved is not None:
            res.unproved.append(_seq_index(rest[room:], v))
        rest = rest[:room]
    for row in rest:
        seq = tuple(int(t) for t in row)
        if decide_sequence(paths, d_head, seq, ops):
            res.proved += 1
            res.fallback_proved += 1
            if res.mask is not None:
                res.mask[_seq_index(np.array([seq], dtype=np.int64), v)] = True
        else:
            res.fallback_not_proved += 1
            if res.unproved is not None:
                res.unproved.append(_seq_index(np.array([seq], dtype=np.int64), v))


__all__ = ["SweepResult", "boxes", "chunks", "exhaustive_sweep"]
