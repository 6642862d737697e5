"""The refine proof: cubic cases, split where the witness says so (docs/proofs/refine.md).

Claim established by ``refine_count``: the returned count is the size of a set of distinct
sequences, each PROVED correct for the exact weights, namely the union over the leaves of the
case tree of section 2 of the subsets their tests certify (Theorem 6.1 of the document).
Every function below names the lemma it implements. Integer arithmetic only: the tables of
checker/strategies/cubic.py (common scale 2^e0 for EUPU, EVOU, PVOU; exp enclosures at the
per-query scale 2^-F_q) are reused by import.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Callable

from checker.decide import CappedDecider
from checker.ops import OpCounter
from checker.paths import ExactPaths
from checker.strategies.cubic import (
    common_scale,
    exp_tables,
    mulup,
    pessimisations,
    position_sums,
    root_threshold,
    sort_positions,
    threshold,
)
from checker.strategies.refine.witness import NodeKey, Plan, cmax

Vector = list[int]


@dataclass(frozen=True)
class Leaf:
    """One certified leaf of the case tree (for tests and the search; the count is their total).

    kind "cubic": key (q, m, c), values = S_{q,m,c}; the counted sequences are every sequence of
      that case whose c non-max non-query values lie in ``values`` (C(n-1, c) |S|^c of them).
    kind "zero": key (q, m, 0): the single sequence (m, ..., m, q).
    kind "node": key (q, m, mask, k_1..k_j), values = S: every sequence of the node whose free
      positions hold values in S (|S|^f of them, f = c - j).
    kind "single": key (q, m, mask, k_1..k_c) or (q, m, 0): one sequence, decided exactly.
    """

    kind: str
    key: tuple[int, ...]
    values: tuple[int, ...]
    count: int


@dataclass
class RefineResult:
    count: int = 0
    leaves: list[Leaf] | None = None
    nodes_tested: int = 0
    decided: int = 0

    def add(self, leaf: Leaf) -> None:
        self.count += leaf.count
        if self.leaves is not None:
            self.leaves.append(leaf)


class Tables:
    """Model-wide exact tables: U, V, P at scale 2^e0; exp enclosures; cubic pessimisations D, R."""

    def __init__(self, paths: ExactPaths, d_head: int, ops: OpCounter):
        self.U, self.V, self.P = common_scale(paths.EUPU, paths.EVOU, paths.PVOU)
        self.v, self.n = len(self.U), len(self.P)
        self.Elo, self.Ehi, self.Plo, self.Phi, _ = exp_tables(paths, d_head, ops)
        self.D, self.R = pessimisations(self.U, self.V, self.P, ops)


class Group:
    """Quantities of one (query q, max m) used by the cubic root test and by the node tests.

    u[t] = mulup(G(t), Elo(t), Ehi(t)) with G(t) = D_m[q] + R_m[t] (cubic.md Lemma 5.2), t <= m.
    Lazily: dV rows, dP rows, term vectors T_p(t) (Lemma 3.1 of refine.md), scalar terms s_p(t)
    (Lemma 4.1), pessimised position rows P*_W and mixed rows g_W(k) (Lemma 3.2).
    """

    def __init__(self, tab: Tables, q: int, m: int):
        self.tab, self.q, self.m = tab, q, m
        self.xs = [x for x in range(tab.v) if x != m]
        self._u: list[int] | None = None
        self._dU: dict[int, Vector] = {}
        self._dV: dict[int, Vector] = {}
        self._dP: dict[int, Vector] = {}
        self._term: dict[tuple[int, int], Vector] = {}
        self._scal: dict[tuple[int, int], int] = {}
        self._pstar: dict[tuple[int, ...], Vector] = {}
        self._row: dict[tuple[tuple[int, ...], int], Vector] = {}
        self._fsum: dict[tuple, tuple[Vector, int]] = {}

    def u(self, ops: OpCounter) -> list[int]:
        """u[t] = mulup(G(t), Elo(t), Ehi(t)), G(t) = D_m[q] + R_m[t], for t <= m (cubic.md Lemma 5.2)."""
        if self._u is None:
            q, m, D, R = self.q, self.m, self.tab.D, self.tab.R
            Elo, Ehi = self.tab.Elo[q], self.tab.Ehi[q]
            out = []
            for t in range(m + 1):
                g = D[m][q] + R[m][t]
                out.append(g * Ehi[t] if g >= 0 else g * Elo[t])
            ops.add(3 * (m + 1))
            self._u = out
        return self._u

    def _diff(self, cache: dict[int, Vector], key: int, row: list[int], ops: OpCounter) -> Vector:
        """[row[x_i] - row[m]] over the competitors x_i != m, computed once per key."""
        if key not in cache:
            cache[key] = [row[x] - row[self.m] for x in self.xs]
            ops.add(len(self.xs))
        return cache[key]

    def dU(self, ops: OpCounter) -> Vector:
        """dU[i] = EUPU[q, x_i] - EUPU[q, m] (integers at scale 2^e0), x_i the competitors != m."""
        return self._diff(self._dU, 0, self.tab.U[self.q], ops)

    def dV(self, t: int, ops: OpCounter) -> Vector:
        """dV_t[i] = EVOU[t, x_i] - EVOU[t, m]."""
        return self._diff(self._dV, t, self.tab.V[t], ops)

    def dP(self, p: int, ops: OpCounter) -> Vector:
        """dP_p[i] = PVOU[p, x_i] - PVOU[p, m]."""
        return self._diff(self._dP, p, self.tab.P[p], ops)

    def term(self, p: int, t: int, ops: OpCounter) -> Vector:
        """Lemma 3.1: T_p(t)[i] = mulup(H_p(t, x_i), Elo(t) Plo(p), Ehi(t) Phi(p)) >= 2^-(e0-2F) e(t) pi(p) h_p(t, x_i)."""
        key = (p, t)
        if key not in self._term:
            q = self.q
            lo = self.tab.Elo[q][t] * self.tab.Plo[q][p]
            hi = self.tab.Ehi[q][t] * self.tab.Phi[q][p]
            dU, dV, dP = self.dU(ops), self.dV(t, ops), self.dP(p, ops)
            out = []
            for a, b, c in zip(dU, dV, dP):
                h = a + b + c
                out.append(h * hi if h >= 0 else h * lo)
            ops.add(2 + 4 * len(out))
            self._term[key] = out
        return self._term[key]

    def scal(self, p: int, t: int, ops: OpCounter) -> int:
        """Lemma 4.1: s_p(t) = mulup(G(t), Elo(t) Plo(p), Ehi(t) Phi(p)) >= T_p(t)[i] for every i."""
        key = (p, t)
        if key not in self._scal:
            q, m = self.q, self.m
            g = self.tab.D[m][q] + self.tab.R[m][t]
            lo = self.tab.Elo[q][t] * self.tab.Plo[q][p]
            hi = self.tab.Ehi[q][t] * self.tab.Phi[q][p]
            self._scal[key] = mulup(g, lo, hi)
            ops.add(5)
        return self._scal[key]

    def fixed_sum(self, key: tuple, parts: list[tuple[int, int]], ops: OpCounter) -> tuple[Vector, int]:
        """(sum_{(p, t) in parts} T_p(t), its maximum entry), cached under ``key``.

        key = (positions, prefix'): parts are the query slot (token q), the non-query positions
        outside N (token m) and N[:len(prefix')] (tokens prefix'), so equal keys mean equal parts.
        """
        if key not in self._fsum:
            vecs = [self.term(p, t, ops) for p, t in parts]
            vec = [sum(col) for col in zip(*vecs)]
            ops.add((len(vecs) - 1) * len(self.xs) + len(vec) - 1)
            self._fsum[key] = (vec, max(vec))
        return self._fsum[key]

    def pstar(self, free: tuple[int, ...], ops: OpCounter) -> Vector:
        """P*_W[i] = max_{p in W} dP_p[i] over the free positions W (Lemma 3.2)."""
        if free not in self._pstar:
            rows = [self.dP(p, ops) for p in free]
            self._pstar[free] = [max(col) for col in zip(*rows)]
            ops.add((len(free) - 1) * len(self.xs))
        return self._pstar[free]

    def row(self, free: tuple[int, ...], k: int, ops: OpCounter) -> Vector:
        """Lemma 3.2: g_W(k)[i] = mulup(dU[i] + dV_k[i] + P*_W[i], Elo(k), Ehi(k))."""
        key = (free, k)
        if key not in self._row:
            q = self.q
            lo, hi = self.tab.Elo[q][k], self.tab.Ehi[q][k]
            dU, dV, ps = self.dU(ops), self.dV(k, ops), self.pstar(free, ops)
            out = []
            for a, b, c in zip(dU, dV, ps):
                h = a + b + c
                out.append(h * hi if h >= 0 else h * lo)
            ops.add(4 * len(out))
            self._row[key] = out
        return self._row[key]


def node_sequence(n: int, q: int, m: int, positions: tuple[int, ...], prefix: tuple[int, ...]) -> list[int]:
    """The tokens of a node's fixed positions (free positions hold a placeholder -1).

    Non-query positions outside N hold m, N[i] holds prefix[i] for i < j, the query slot holds q.
    """
    seq = [m] * (n - 1) + [q]
    for i, p in enumerate(positions):
        seq[p] = prefix[i] if i < len(prefix) else -1
    return seq


def node_values(g: Group, n: int, positions: tuple[int, ...], prefix: tuple[int, ...], ops: OpCounter) -> tuple[int, ...]:
    """Theorem 3.3: the set S of values k < m such that every sequence of the node whose free
    positions all hold values in S is correct (f = |free| >= 1).

    k is in S iff for every competitor x_i: Fx[i] + mulup(g_W(k)[i], Ylo, Yhi) < 0, with Fx the
    sum of the term vectors of the fixed positions (Lemma 3.1). Three shortcuts (Lemma 4.2), each
    of the form A + mulup(u(k), Ylo, Yhi) < 0 (so a threshold on u(k), cubic.md Lemma 5.4), imply
    it; the vectors are formed only for the values failing the first, and the rows g_W(k) only
    for the values failing all three:
    A = Fs (scalar sum over the fixed positions); A = max_i Fb[i] + s_last (Fb the vector sum
    over the fixed positions except the last fixed free-position value, shared by siblings);
    A = max_i Fx[i].
    """
    q, m, tab = g.q, g.m, g.tab
    seq = node_sequence(n, q, m, positions, prefix)
    free = positions[len(prefix):]
    fixed = [p for p in range(n) if seq[p] >= 0]
    Ylo = sum(tab.Plo[q][p] for p in free)
    Yhi = sum(tab.Phi[q][p] for p in free)
    Fs = sum(g.scal(p, seq[p], ops) for p in fixed)
    ops.add(2 * (len(free) - 1) + len(fixed) - 1)
    u = g.u(ops)
    failing = list(range(m))
    last = positions[len(prefix) - 1] if prefix else -1
    for step in range(3):
        if step == 0:
            A = Fs
        elif step == 1:
            Fb, top_b = g.fixed_sum((positions, prefix[:-1]), [(p, seq[p]) for p in fixed if p != last], ops)
            A = top_b + (g.scal(last, seq[last], ops) if prefix else 0)
            ops.add(1)
        else:
            if prefix:
                Fx = [a + b for a, b in zip(Fb, g.term(last, seq[last], ops))]
                top = max(Fx)
                ops.add(2 * len(Fx) - 1)
            else:
                Fx, top = Fb, top_b
            A = top
        tau = threshold(-A, Ylo, Yhi)
        ops.add(2)
        if tau is None:
            return tuple(range(m))
        if tau is not False:
            ops.add(len(failing))
            failing = [k for k in failing if u[k] >= tau]
            if not failing:
                return tuple(range(m))
    thr: dict[int, int | None | bool] = {}  # per-competitor thresholds, formed when first needed
    good = set(range(m)).difference(failing)
    for k in failing:
        r = g.row(free, k, ops)
        ok = True
        for i, a in enumerate(r):
            if i not in thr:
                thr[i] = threshold(-Fx[i], Ylo, Yhi)
                ops.add(2)
            t = thr[i]
            ops.add(1)
            if t is None:
                continue
            if t is False or a >= t:
                ok = False
                break
        if ok:
            good.add(k)
    return tuple(sorted(good))


def single_certified(g: Group, seq: list[int], ops: OpCounter) -> bool:
    """Lemma 3.4: a single sequence of group (q, m) is correct if sum_p T_p(t_p)[i] < 0 for every i
    (shortcut: the scalar sum sum_p s_p(t_p) < 0 implies it, Lemma 4.2)."""
    n = len(seq)
    Fs = sum(g.scal(p, seq[p], ops) for p in range(n))
    ops.add(n)
    if Fs < 0:
        return True
    vecs = [g.term(p, seq[p], ops) for p in range(n)]
    ops.add(n * len(g.xs))
    return all(sum(col) < 0 for col in zip(*vecs))


def mask_positions(mask: int, n: int) -> tuple[int, ...]:
    """The non-query positions p (0 <= p <= n-2) whose bit is set in mask, increasing."""
    return tuple(p for p in range(n - 1) if mask >> p & 1)


def refine_count(paths: ExactPaths, d_head: int, plan: Plan, ops: OpCounter, record: bool = False,
                 decide: Callable[..., bool] | None = None) -> RefineResult:
    """Walk the case tree of the plan (section 2, Theorem 2.4) and count what its leaves certify (Theorem 6.1).

    Decided leaves go to ``decide`` (default: a fresh checker.decide.CappedDecider, section 5)."""
    if decide is None:
        decide = CappedDecider()
    tab = Tables(paths, d_head, ops)
    v, n = tab.v, tab.n
    res = RefineResult(leaves=[] if record else None)
    for q in range(v):
        order = sort_positions(paths.EQKP.rows[q], ops)
        sums = position_sums(order, tab.Plo[q], tab.Phi[q], ops)
        Plo, Phi = tab.Plo[q], tab.Phi[q]
        for m in range(q, v):
            g = Group(tab, q, m)
            if q == m or n >= 2:  # the c = 0 case: Lemma 3.4 (= cubic Lemma 6.1, Lemma 4.3), or decided
                seq = [m] * (n - 1) + [q]
                if (q, m, 0) in plan.split_roots:
                    res.decided += 1
                    if decide(paths, d_head, tuple(seq), ops):
                        res.add(Leaf("single", (q, m, 0), (), 1))
                elif single_certified(g, seq, ops):
                    res.add(Leaf("zero", (q, m, 0), (), 1))
            if cmax(q, m, n) < 1:
                continue
            for c in range(1, cmax(q, m, n) + 1):
                if (q, m, c) in plan.split_roots:
                    for mask in range(1, 1 << (n - 1)):
                        if bin(mask).count("1") == c:
                            _node(g, n, (q, m, mask), plan, paths, d_head, res, decide, ops)
                    continue
                S = cubic_root_values(g.u(ops), q, m, c, sums, Plo[n - 1], Phi[n - 1], ops)
                if S:
                    res.add(Leaf("cubic", (q, m, c), S, comb(n - 1, c) * len(S) ** c))
    return res


def cubic_root_values(u: list[int], q: int, m: int, c: int, sums: dict[tuple[int, str], tuple[int, int, int, int]],
                      pq_lo: int, pq_hi: int, ops: OpCounter) -> tuple[int, ...]:
    """cubic.md Theorem 4.6 with Lemmas 5.3-5.4: S_{q,m,c} = {k < m : u(k) < tau} (cubic.root_threshold)."""
    tau = root_threshold(u[q], u[m], c, sums, pq_lo, pq_hi, ops)
    if tau is False:
        return ()
    if tau is None:
        return tuple(range(m))
    ops.add(m)
    return tuple(k for k in range(m) if u[k] < tau)


def _node(g: Group, n: int, key: NodeKey, plan: Plan, paths: ExactPaths, d_head: int, res: RefineResult,
          decide: Callable[..., bool], ops: OpCounter) -> None:
    """A node (q, m, mask, prefix): split into its m children, decided exactly, or tested (section 2)."""
    q, m, mask, prefix = key[0], key[1], key[2], key[3:]
    positions = mask_positions(mask, n)
    f = len(positions) - len(prefix)
    res.nodes_tested += 1
    if key in plan.split_nodes:
        if f == 0:
            res.decided += 1
            if decide(paths, d_head, tuple(node_sequence(n, q, m, positions, prefix)), ops):
                res.add(Leaf("single", key, (), 1))
            return
        for k in range(m):
            _node(g, n, key + (k,), plan, paths, d_head, res, decide, ops)
        return
    if f == 0:
        if single_certified(g, node_sequence(n, q, m, positions, prefix), ops):
            res.add(Leaf("node", key, (), 1))
        return
    S = node_values(g, n, positions, prefix, ops)
    if S:
        res.add(Leaf("node", key, S, len(S) ** f))
