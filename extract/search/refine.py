"""Proof search for the refine strategy (docs/proofs/refine.md): which cases to split.

Untrusted and heuristic (float64). The witness only lists split cases; the checker
(checker.strategies.refine) recomputes every test. Procedure:

1. The exact root results: the checker run with an empty plan (the cubic cases, exact).
2. Float64 view: which sequences are correct (float brute force; only used to know how much a
   split can gain) and, per node, the float version of the checker's node test (the set S).
3. Greedy: a candidate split of a case whose certified count is below its correct count has
   gain = (what its children certify) - (what it certifies) and an estimated cost in checker
   operations (a model of the checker's counting); candidates are taken in order of gain per
   operation while the estimated extra cost stays within the budget. Children of a taken split
   become candidates. Budget "full" takes every split with a positive deficit, down to single
   sequences decided exactly.
4. The claim is the exact count of the checker run on the finished certificate. For "full",
   leaves that the exact test certifies less than the float view expected are split further
   (at most ROUNDS times), so rounding at tiny margins does not leave correct sequences out.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from dataclasses import dataclass, field
from math import comb

import numpy as np

from checker.strategies.refine import BUDGETS
from extract.model import ModelWeights, float_paths
from extract.search import SearchResult

ROUNDS = 3
BUDGET_OPS: dict[str, float] = {b: (float("inf") if b == "full" else float(b)) for b in BUDGETS}


@dataclass
class FloatModel:
    """Float64 data of the node tests: per query q, e_q(t) and pi_q(p); path matrices; D, R."""

    U: np.ndarray
    V: np.ndarray
    P: np.ndarray
    e: np.ndarray  # [q, t]
    pi: np.ndarray  # [q, p]
    D: np.ndarray  # [m, q]
    R: np.ndarray  # [m, t]
    v: int
    n: int

    @staticmethod
    def of(weights: ModelWeights) -> "FloatModel":
        from extract.search.cubic import float_pessimisations

        fp = float_paths(weights)
        rho = fp.inv_sqrt_dhead
        e = np.exp(rho * (fp.EQKE - fp.EQKE.max(axis=1, keepdims=True)))
        pi = np.exp(rho * (fp.EQKP - fp.EQKP.max(axis=1, keepdims=True)))
        D, R = float_pessimisations(fp.EUPU, fp.EVOU, fp.PVOU)
        return FloatModel(fp.EUPU, fp.EVOU, fp.PVOU, e, pi, D, R, fp.EUPU.shape[0], fp.PVOU.shape[0])


def positions_of(mask: int, n: int) -> tuple[int, ...]:
    return tuple(p for p in range(n - 1) if mask >> p & 1)


def template(n: int, q: int, m: int, positions: tuple[int, ...], prefix: tuple[int, ...]) -> list[int]:
    seq = [m] * (n - 1) + [q]
    for i, p in enumerate(positions):
        seq[p] = prefix[i] if i < len(prefix) else -1
    return seq


def float_node(fm: FloatModel, key: tuple[int, ...]) -> tuple[int, float]:
    """(|S|^f, estimated checker operations) of the float node test of key = (q, m, mask, prefix).

    For f = 0 the first value is 1 if the single sequence passes the test, else 0.
    """
    q, m, mask, prefix = key[0], key[1], key[2], key[3:]
    n, v = fm.n, fm.v
    pos = positions_of(mask, n)
    seq = template(n, q, m, pos, prefix)
    free = pos[len(prefix):]
    fixed = [p for p in range(n) if seq[p] >= 0]
    xs = np.array([x for x in range(v) if x != m])
    e, pi = fm.e[q], fm.pi[q]
    dU = fm.U[q, xs] - fm.U[q, m]
    G = fm.D[m, q] + fm.R[m]
    w = v - 1
    Fs = sum(pi[p] * e[seq[p]] * G[seq[p]] for p in fixed)
    Fx = np.zeros(len(xs))
    for p in fixed:
        t = seq[p]
        Fx += pi[p] * e[t] * (dU + fm.V[t, xs] - fm.V[t, m] + fm.P[p, xs] - fm.P[p, m])
    if not free:
        ok = Fx.max() < 0
        cost = 6 * n + (0 if Fs < 0 else n * (3 + 5 * w))
        return int(ok), float(cost)
    Y = pi[list(free)].sum()
    fail = int(((Fs + Y * e[:m] * G[:m]) >= 0).sum())
    Ps = np.max([fm.P[p, xs] - fm.P[p, m] for p in free], axis=0)
    g = e[:m, None] * (dU[None, :] + fm.V[:m][:, xs] - fm.V[:m, m : m + 1] + Ps[None, :])
    S = int(((Fx[None, :] + Y * g) < 0).all(axis=1).sum())
    cost = 8 * n + 4 + m + (n * (2 + 5 * w) + 2 * w if fail else 0) + fail * 5 * w
    return S ** len(free), float(cost)


def decide_cost(v: int, n: int) -> float:
    """Estimated operations of one exact decision of a correct sequence (one precision round)."""
    return float(3 * n + 6 * n * (v - 1) + 1 + 6 * n + (v - 1) * (4 * n + 2))


@dataclass
class Tree:
    """The search state: splits taken, and per case key its float certified and correct counts."""

    fm: FloatModel
    wrong: Counter
    root_keys: set = field(default_factory=set)  # every root case (q, m, c) of the model
    roots: set = field(default_factory=set)  # split roots
    nodes: set = field(default_factory=set)  # split nodes

    def correct(self, key: tuple) -> int:
        """Float count of correct sequences of a case; roots are keyed ("root", q, m, c), nodes (q, m, mask, prefix)."""
        n = self.fm.n
        if key[0] == "root":
            _, q, m, c = key
            return (1 if c == 0 else comb(n - 1, c) * m**c) - self.wrong.get(key, 0)
        f = bin(key[2]).count("1") - len(key[3:])
        return key[1] ** f - self.wrong.get(key, 0)

    def children(self, key: tuple[int, ...]) -> list[tuple[int, ...]]:
        """The children of a split case (empty for a case decided exactly when split)."""
        n = self.fm.n
        if key[0] == "root":
            _, q, m, c = key
            if c == 0:
                return []
            return [(q, m, mask) for mask in range(1, 1 << (n - 1)) if bin(mask).count("1") == c]
        f = bin(key[2]).count("1") - len(key[3:])
        return [] if f == 0 else [key + (k,) for k in range(key[1])]


def wrong_counts(wrong_indices: np.ndarray, v: int, n: int) -> Counter:
    """Number of float-incorrect sequences per case key (roots (q, m, c) and nodes (q, m, mask, prefix))."""
    out: Counter = Counter()
    for i in wrong_indices.tolist():
        seq = [(i // v ** (n - 1 - p)) % v for p in range(n)]
        q, m = seq[-1], max(seq)
        N = [p for p in range(n - 1) if seq[p] < m]
        out[("root", q, m, len(N))] += 1
        if N:
            mask = sum(1 << p for p in N)
            for j in range(len(N) + 1):
                out[(q, m, mask) + tuple(seq[p] for p in N[:j])] += 1
    return out


def leaf_key(leaf) -> tuple:
    """The search's key of an exact leaf: ("root", q, m, c) for root results, the node key otherwise."""
    if leaf.kind in ("cubic", "zero") or (leaf.kind == "single" and len(leaf.key) == 3):
        return ("root",) + tuple(leaf.key)
    return tuple(leaf.key)


def plan_witness(roots: set, nodes: set) -> dict:
    return {"split_roots": [list(k[1:]) for k in sorted(roots)], "split_nodes": [list(k) for k in sorted(nodes)]}


def exact_run(weights: ModelWeights, budget: str, witness: dict):
    """(RefineResult with leaves, operations) of the exact checker on this witness (extract may import checker)."""
    from checker.load import load_certificate_obj
    from checker.ops import OpCounter
    from checker.paths import exact_paths
    from checker.strategies.refine.cases import refine_count
    from checker.strategies.refine.witness import parse_plan

    from extract.certificate import build_certificate

    cert = load_certificate_obj(build_certificate(weights, "refine", {"budget": budget}, witness, 0), "<search>")
    ops = OpCounter()
    plan = parse_plan(cert.witness, cert.d_vocab, cert.n_ctx)
    res = refine_count(exact_paths(cert.weights, ops), cert.d_head, plan, ops, record=True)
    return res, ops.count


def float_wrong(weights: ModelWeights) -> np.ndarray:
    from extract.accuracy import float_brute_force

    return float_brute_force(weights, threads=1).wrong_indices


@dataclass
class Prepared:
    """What every budget's search shares for one model: float data, wrong counts, exact root results."""

    weights: ModelWeights
    fm: FloatModel
    wrong: Counter
    root_cert: dict[tuple, int]
    root_ops: int


def prepare(weights: ModelWeights) -> Prepared:
    """Float model, float-incorrect sequences per case, and the exact results of the root cases."""
    cfg = weights.config
    base, base_ops = exact_run(weights, "0", plan_witness(set(), set()))
    return Prepared(weights, FloatModel.of(weights), wrong_counts(float_wrong(weights), cfg.d_vocab, cfg.n_ctx),
                    {leaf_key(leaf): leaf.count for leaf in base.leaves or []}, base_ops)


def search(weights: ModelWeights, knobs: dict[str, str], prepared: Prepared | None = None) -> SearchResult:
    """Choose the splits within the budget; claim = the exact count of the checker on the result."""
    if set(knobs) != {"budget"} or knobs["budget"] not in BUDGET_OPS:
        raise ValueError(f"the refine strategy takes one knob budget in {sorted(BUDGET_OPS)}, got {knobs}")
    budget = knobs["budget"]
    limit = BUDGET_OPS[budget]
    cfg = weights.config
    v, n = cfg.d_vocab, cfg.n_ctx
    if prepared is None or prepared.weights is not weights:
        prepared = prepare(weights)
    fm = prepared.fm
    tree = Tree(fm, prepared.wrong)
    base_ops = prepared.root_ops
    cert_of: dict[tuple, int] = dict(prepared.root_cert)
    for q in range(v):
        for m in range(q, v):
            for c in range(0, (n - 1 if q == m else n - 2) + 1):
                if c == 0 and not (q == m or n >= 2):
                    continue
                tree.root_keys.add(("root", q, m, c))
    cost_of: dict[tuple[int, ...], float] = {}  # estimated operations of the test of a case
    split_cost: dict[tuple[int, ...], float] = {}  # estimated extra operations of splitting a case
    heap: list[tuple[float, int, tuple[int, ...]]] = []
    tie = itertools.count()

    def evaluate(key: tuple[int, ...]) -> None:
        """Push key as a candidate split if it certifies less than it holds correct."""
        deficit = tree.correct(key) - cert_of.get(key, 0)
        if deficit <= 0:
            return
        kids = tree.children(key)
        if not kids:
            gain, cost = 1.0, decide_cost(v, n)
        else:
            gain, cost = -float(cert_of.get(key, 0)), 0.0
            for k in kids:
                s, c = float_node(fm, k)
                cert_of[k], cost_of[k] = s, c
                gain += s
                cost += c
            cost -= cost_of.get(key, 0.0)
            gain = max(gain, 0.0)
            if gain == 0 and deficit > 0:
                gain = 1e-9  # still worth splitting deeper for the exact count
        heapq.heappush(heap, (-gain / max(cost, 1.0), next(tie), key))
        split_cost[key] = cost

    for key in sorted(tree.root_keys):
        evaluate(key)
    spent = 0.0
    while heap:
        _, _, key = heapq.heappop(heap)
        cost = split_cost[key]
        if spent + cost > limit:
            continue
        spent += cost
        (tree.roots if key[0] == "root" else tree.nodes).add(key)
        for k in tree.children(key):
            evaluate(k)
    witness = plan_witness(tree.roots, tree.nodes)
    res, ops = exact_run(weights, budget, witness)
    rounds = 0
    while budget == "full" and rounds < ROUNDS:
        exact = Counter()
        for leaf in res.leaves or []:
            exact[leaf_key(leaf)] += leaf.count
        more = False
        for key in list(cert_of):
            if key in tree.roots or key in tree.nodes:
                continue
            if exact.get(key, 0) < tree.correct(key):
                _split_down(tree, fm, key, cert_of)
                more = True
        if not more:
            break
        witness = plan_witness(tree.roots, tree.nodes)
        res, ops = exact_run(weights, budget, witness)
        rounds += 1
    return SearchResult(
        witness=witness,
        certified_count=res.count,
        info={
            "claim_source": "exact count of checker.strategies.refine run on this certificate",
            "budget_ops_estimated": str(int(spent)),
            "checker_ops": str(ops),
            "root_ops": str(base_ops),
            "split_roots": str(len(tree.roots)),
            "split_nodes": str(len(tree.nodes)),
        },
    )


def _split_down(tree: Tree, fm: FloatModel, key: tuple[int, ...], cert_of: dict) -> None:
    """Split key (a root or node whose exact result fell short) and record its children's float results."""
    (tree.roots if key[0] == "root" else tree.nodes).add(key)
    for k in tree.children(key):
        cert_of[k] = float_node(fm, k)[0]
