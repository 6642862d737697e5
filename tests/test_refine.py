"""Properties of the refine strategy (docs/proofs/refine.md): soundness against the exact oracle
with every certified leaf enumerated, the case partition, the exact count at full budget, the
operation bound, agreement with cubic at budget 0, and rejection of mutated certificates."""

from __future__ import annotations

import copy
import functools
import itertools
from collections import Counter

import numpy as np
import pytest

from checker.cost import Header
from checker.errors import CertificateError
from checker.load import load_certificate_obj
from checker.ops import OpCounter
from checker.paths import exact_paths
from checker.strategies import cubic
from checker.strategies import refine
from checker.strategies.refine import cases as rcases
from checker.strategies.refine.cases import Leaf, RefineResult, refine_count
from checker.strategies.refine.witness import cmax, parse_plan
from checker.verify import check_certificate
from extract.certificate import build_certificate
from extract.config import ModelConfig
from extract.model import ModelWeights
from extract.search.refine import search
from extract.strategies import all_strategies, parse_strategy, refine_strategies
from tests.mutations import assert_claim_plus_one_fails
from tests.oracle import exact_correct_mask, tiny_trained_weights

BUDGETS = ("0", "1e5", "full")

# ---------------------------------------------------------------- helpers


def certificate_for(weights: ModelWeights, witness: dict, claim: int = 0, budget: str = "full"):
    return load_certificate_obj(build_certificate(weights, "refine", {"budget": budget}, witness, claim), "<test>")


def run(weights: ModelWeights, witness: dict) -> RefineResult:
    cert = certificate_for(weights, witness)
    ops = OpCounter()
    plan = parse_plan(cert.witness, cert.d_vocab, cert.n_ctx)
    return refine_count(exact_paths(cert.weights, ops), cert.d_head, plan, ops, record=True)


def leaf_sequences(leaf: Leaf, v: int, n: int) -> list[tuple[int, ...]]:
    """Every sequence a certified leaf counts, enumerated explicitly from its kind, key and values."""
    if leaf.kind == "zero" or (leaf.kind == "single" and len(leaf.key) == 3):
        q, m, _ = leaf.key
        return [tuple([m] * (n - 1) + [q])]
    if leaf.kind == "cubic":
        q, m, c = leaf.key
        out = []
        for N in itertools.combinations(range(n - 1), c):
            for ks in itertools.product(leaf.values, repeat=c):
                seq = [m] * (n - 1) + [q]
                for p, k in zip(N, ks):
                    seq[p] = k
                out.append(tuple(seq))
        return out
    q, m, mask, prefix = leaf.key[0], leaf.key[1], leaf.key[2], leaf.key[3:]
    N = [p for p in range(n - 1) if mask >> p & 1]
    free = N[len(prefix):]
    out = []
    for ks in itertools.product(leaf.values, repeat=len(free)):
        seq = [m] * (n - 1) + [q]
        for p, k in zip(N, tuple(prefix) + ks):
            seq[p] = k
        out.append(tuple(seq))
    return out


def leaf_shape_ok(leaf: Leaf, seq: tuple[int, ...], n: int) -> bool:
    """The sequence has the query, max and non-max positions of the leaf's case key."""
    q, m = leaf.key[0], leaf.key[1]
    if seq[-1] != q or max(seq) != m:
        return False
    below = [p for p in range(n - 1) if seq[p] < m]
    if leaf.kind in ("cubic", "zero") or len(leaf.key) == 3 and leaf.kind == "single":
        return len(below) == leaf.key[2]
    mask, prefix = leaf.key[2], leaf.key[3:]
    return below == [p for p in range(n - 1) if mask >> p & 1] and all(seq[p] == k for p, k in zip(below, prefix))


def seq_index(seq: tuple[int, ...], v: int) -> int:
    idx = 0
    for t in seq:
        idx = idx * v + t
    return idx


def assert_sound(weights: ModelWeights, witness: dict, mask: np.ndarray | None = None, kinds: Counter | None = None) -> int:
    """Every counted sequence is enumerated, distinct, of its leaf's shape, and truly correct."""
    cfg = weights.config
    v, n = cfg.d_vocab, cfg.n_ctx
    res = run(weights, witness)
    mask = exact_correct_mask(weights) if mask is None else mask
    seen: set[tuple[int, ...]] = set()
    total = 0
    for leaf in res.leaves or []:
        if kinds is not None:
            kinds[leaf.kind] += 1
        seqs = leaf_sequences(leaf, v, n)
        assert len(seqs) == leaf.count, leaf
        total += leaf.count
        for s in seqs:
            assert leaf_shape_ok(leaf, s, n), (leaf, s)
            assert s not in seen, f"sequence {s} counted twice (leaf {leaf})"
            seen.add(s)
            assert mask[seq_index(s, v)], f"counted sequence {s} (leaf {leaf.kind} {leaf.key}) is not correct"
    assert total == res.count <= int(mask.sum())
    return res.count


def all_keys(v: int, n: int) -> tuple[list[tuple[int, int, int]], list[tuple[int, ...]]]:
    """Every root key and every node key of the case tree of a (v, n) model."""
    roots, nodes = [], []
    for q in range(v):
        for m in range(q, v):
            for c in range(0, cmax(q, m, n) + 1):
                if c == 0 and not (q == m or n >= 2):
                    continue
                roots.append((q, m, c))
                if c == 0:
                    continue
                for mask in range(1, 1 << (n - 1)):
                    if bin(mask).count("1") != c:
                        continue
                    for j in range(c + 1):
                        for pre in itertools.product(range(m), repeat=j):
                            nodes.append((q, m, mask) + pre)
    return roots, nodes


def random_plan(rng: np.random.Generator, v: int, n: int, p_root: float, p_node: float) -> dict:
    """A random parent-closed plan: each root split with probability p_root, each child of a split case with p_node."""
    roots, nodes = all_keys(v, n)
    split_roots = {r for r in roots if rng.random() < p_root}
    split_nodes: set[tuple[int, ...]] = set()
    for key in sorted(nodes, key=len):
        q, m, mask, prefix = key[0], key[1], key[2], key[3:]
        parent_split = (key[:-1] in split_nodes) if prefix else ((q, m, bin(mask).count("1")) in split_roots)
        if parent_split and rng.random() < p_node:
            split_nodes.add(key)
    order = list(split_nodes)
    rng.shuffle(order)  # the witness order is irrelevant
    return {"split_roots": [list(r) for r in split_roots], "split_nodes": [list(k) for k in order]}


def full_plan(v: int, n: int) -> dict:
    roots, nodes = all_keys(v, n)
    return {"split_roots": [list(r) for r in roots], "split_nodes": [list(k) for k in nodes]}


def model_zoo(count: int, seed: int) -> list[tuple[str, ModelWeights]]:
    """Tiny models: every third briefly trained (most cases certify), the others random at several scales."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        n = int(rng.integers(2, 5))
        v = int(rng.integers(3, 9 if n == 4 else 11))
        d = int(rng.integers(4, 9))
        dh = int(rng.integers(2, d + 1))
        if i % 3 == 0:
            cfg = ModelConfig(d_vocab=min(v, 8), n_ctx=n, d_model=d, d_head=dh)
            out.append(("trained", tiny_trained_weights(cfg, int(rng.integers(1 << 15)), 300)))
        else:
            scale = float(rng.choice([0.3, 1.0, 3.0]))
            cfg = ModelConfig(d_vocab=v, n_ctx=n, d_model=d, d_head=dh)
            out.append((f"random({scale})", ModelWeights.random(cfg, int(rng.integers(1 << 30)), scale=scale)))
    return out


# ---------------------------------------------------------------- soundness


def soundness_on(zoo: list[tuple[str, ModelWeights]], seed: int) -> None:
    rng = np.random.default_rng(seed)
    exercised = 0
    kinds: Counter = Counter()
    for label, w in zoo:
        v, n = w.config.d_vocab, w.config.n_ctx
        mask = exact_correct_mask(w)
        plans = [random_plan(rng, v, n, float(rng.choice([0.1, 0.5, 1.0])), float(rng.choice([0.2, 0.6, 1.0])))]
        budget = BUDGETS[int(rng.integers(len(BUDGETS)))]
        res = search(w, {"budget": budget})
        plans.append(res.witness)
        counts = [assert_sound(w, p, mask, kinds) for p in plans]
        assert counts[1] == res.certified_count
        if budget == "full":
            assert res.certified_count == int(mask.sum()), (label, w.config)
        exercised += counts[1] > 0
    assert exercised > 0
    assert kinds["node"] > 0 and kinds["single"] > 0 and kinds["cubic"] > 0  # every kind of leaf is exercised


@functools.cache
def default_zoo() -> list[tuple[str, ModelWeights]]:
    return model_zoo(100, seed=20261202)


@pytest.mark.parametrize("chunk", range(4))
def test_every_counted_sequence_is_correct_on_100_tiny_models_across_budgets(chunk):
    """100 models (trained and random), each with a random plan and a searched plan at a random budget."""
    soundness_on(default_zoo()[chunk * 25 : (chunk + 1) * 25], seed=chunk)


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(20))
def test_every_counted_sequence_is_correct_on_1000_tiny_models_across_budgets(chunk):
    soundness_on(model_zoo(50, seed=7000 + chunk), seed=100 + chunk)


def test_full_split_plan_certifies_exactly_the_correct_sequences():
    """With every case split, every sequence is decided exactly: the count is the true count."""
    for seed, (v, n) in enumerate([(5, 3), (6, 2), (4, 4), (7, 3)]):
        w = tiny_trained_weights(ModelConfig(d_vocab=v, n_ctx=n, d_model=6, d_head=6), 40 + seed, 300)
        mask = exact_correct_mask(w)
        assert assert_sound(w, full_plan(v, n), mask) == int(mask.sum())


def test_full_budget_reaches_the_true_count_on_trained_models():
    for seed, (v, n) in enumerate([(8, 4), (10, 3), (8, 3)]):
        w = tiny_trained_weights(ModelConfig(d_vocab=v, n_ctx=n, d_model=8, d_head=8), 60 + seed, 300)
        res = search(w, {"budget": "full"})
        assert res.certified_count == int(exact_correct_mask(w).sum())
        verdict = check_certificate(certificate_for(w, res.witness, res.certified_count))
        assert verdict.ok and verdict.certified == res.certified_count


# ---------------------------------------------------------------- the case partition


@pytest.mark.parametrize("v,n", [(2, 1), (3, 1), (2, 2), (4, 2), (3, 3), (5, 3), (4, 4), (3, 5)])
def test_case_tree_partitions_all_sequences_under_every_plan(v, n, monkeypatch):
    """With every test replaced by 'certify everything', any plan's leaves cover {0..v-1}^n exactly once
    (the structural part of Theorem 6.1: disjointness and coverage do not depend on the tests)."""
    monkeypatch.setattr(rcases, "cubic_root_values", lambda u, q, m, c, *a: tuple(range(m)))
    monkeypatch.setattr(rcases, "node_values", lambda g, n_, pos, pre, ops: tuple(range(g.m)))
    monkeypatch.setattr(rcases, "single_certified", lambda *a: True)
    w = ModelWeights.random(ModelConfig(d_vocab=v, n_ctx=n, d_model=4, d_head=4), v * 10 + n)
    rng = np.random.default_rng(v * 100 + n)
    everything = set(itertools.product(range(v), repeat=n))
    for plan in [{"split_roots": [], "split_nodes": []}, full_plan(v, n)] + [
        random_plan(rng, v, n, 0.5, 0.5) for _ in range(5)
    ]:
        cert = certificate_for(w, plan)
        ops = OpCounter()
        res = refine_count(exact_paths(cert.weights, ops), cert.d_head, parse_plan(cert.witness, v, n), ops,
                           record=True, decide=lambda *a: True)
        seqs = [s for leaf in res.leaves for s in leaf_sequences(leaf, v, n)]
        assert res.count == v**n == len(seqs)
        assert set(seqs) == everything


# ---------------------------------------------------------------- budget 0 is cubic; operation bound


def test_budget_zero_certifies_exactly_the_cubic_count():
    """With no split the leaves are the cubic cases (same predicates, cubic.md Lemmas 5.3 and 6.1);
    the scalar shortcut (Lemma 4.3) only changes the work (benchmarks/bench_refine.py reports it)."""
    for label, w in default_zoo()[:20]:
        cert = certificate_for(w, {"split_roots": [], "split_nodes": []})
        ops_r, ops_c = OpCounter(), OpCounter()
        r = refine.check(cert, ops_r)
        c = cubic.check(load_certificate_obj(build_certificate(w, "cubic", {}, {}, 0), "<c>"), ops_c)
        assert r == c, label


def header_of(cert) -> Header:
    """The header the loader gives the cost bound: dimensions and the lengths of the witness's lists."""
    sizes = tuple((k, len(val)) for k, val in cert.witness.items() if isinstance(val, list))
    return Header(cert.d_vocab, cert.n_ctx, cert.d_model, cert.d_head, "refine", {}, witness_sizes=sizes)


def test_cost_bound_is_an_upper_bound_on_the_operations():
    rng = np.random.default_rng(3)
    for label, w in default_zoo()[:30]:
        v, n = w.config.d_vocab, w.config.n_ctx
        for plan in (random_plan(rng, v, n, 0.7, 0.7), search(w, {"budget": "full"}).witness):
            cert = certificate_for(w, plan)
            ops = OpCounter()
            refine.check(cert, ops)
            h = header_of(cert)
            sizes = refine.cost_bound_sizes(v, n, h.d_model, h.d_head, h.witness_size("split_roots"), h.witness_size("split_nodes"))
            assert ops.count <= sizes <= refine.cost_bound(h), label


def test_full_plan_cost_bound_holds_with_every_case_decided():
    w = tiny_trained_weights(ModelConfig(d_vocab=5, n_ctx=3, d_model=6, d_head=6), 9, 300)
    cert = certificate_for(w, full_plan(5, 3))
    ops = OpCounter()
    refine.check(cert, ops)
    assert ops.count <= refine.cost_bound(header_of(cert))


# ---------------------------------------------------------------- catalogue


def test_catalogue_keeps_the_paper_102_and_lists_refine_points_separately():
    assert len(all_strategies()) == 102 and all(s.family != "refine" for s in all_strategies())
    names = [s.name for s in refine_strategies()]
    assert "refine:full" in names and "refine:0" in names
    assert parse_strategy("refine", "ops=1e6").name == "refine:1e6"
    assert parse_strategy("refine", None).name == "refine:full"
    with pytest.raises(ValueError):
        parse_strategy("refine", "3e9")


# ---------------------------------------------------------------- mutations


@pytest.fixture(scope="module")
def trained_full():
    w = tiny_trained_weights(ModelConfig(d_vocab=8, n_ctx=4, d_model=8, d_head=8), 1, 300)
    res = search(w, {"budget": "full"})
    obj = build_certificate(w, "refine", {"budget": "full"}, res.witness, res.certified_count)
    assert res.witness["split_roots"] and res.witness["split_nodes"]
    return w, obj


def test_claim_raised_by_one_is_rejected(trained_full):
    assert_claim_plus_one_fails(trained_full[1])


def expect_rejected(obj: dict, witness: dict, field_prefix: str = "witness") -> None:
    bad = copy.deepcopy(obj)
    bad["witness"] = witness
    with pytest.raises(CertificateError) as e:
        check_certificate(load_certificate_obj(bad, "<bad>"))
    assert e.value.field.startswith(field_prefix), e.value.field


def test_duplicated_keys_are_rejected(trained_full):
    _, obj = trained_full
    wit = obj["witness"]
    expect_rejected(obj, {"split_roots": wit["split_roots"] + wit["split_roots"][:1], "split_nodes": wit["split_nodes"]})
    expect_rejected(obj, {"split_roots": wit["split_roots"], "split_nodes": wit["split_nodes"] + wit["split_nodes"][-1:]})


def test_splits_without_a_split_parent_are_rejected(trained_full):
    _, obj = trained_full
    wit = obj["witness"]
    roots = {tuple(r) for r in wit["split_roots"]}
    nodes = {tuple(k) for k in wit["split_nodes"]}
    # a node whose root case is not split
    q, m, c = next((q, m, c) for q in range(8) for m in range(max(q, 1), 8) for c in (1, 2) if (q, m, c) not in roots)
    mask = 1 if c == 1 else 3
    expect_rejected(obj, {"split_roots": wit["split_roots"], "split_nodes": wit["split_nodes"] + [[q, m, mask]]})
    # a node whose parent node is not split
    parent = next(k for k in nodes if len(k) == 3)
    child = parent + (0,)
    if child not in nodes and parent[1] >= 1:
        expect_rejected(obj, {"split_roots": wit["split_roots"], "split_nodes": wit["split_nodes"] + [list(child + (0,))]}
                        if bin(parent[2]).count("1") >= 2 else {"split_roots": [], "split_nodes": [list(child)]})
    # removing a root whose children are split orphans them
    r = (parent[0], parent[1], bin(parent[2]).count("1"))
    expect_rejected(obj, {"split_roots": [list(x) for x in roots - {r}], "split_nodes": wit["split_nodes"]})


@pytest.mark.parametrize("bad_root", [[3, 2, 1], [0, 8, 1], [0, 5, 3], [0, 5, -1], [1, 1, 4], [0, 1], [0, 1, 1, 1], ["a", 1, 1]])
def test_out_of_range_roots_are_rejected(trained_full, bad_root):
    _, obj = trained_full
    expect_rejected(obj, {"split_roots": obj["witness"]["split_roots"] + [bad_root], "split_nodes": obj["witness"]["split_nodes"]})


@pytest.mark.parametrize("bad_node", [[2, 5, 0], [2, 5, 8], [2, 5, 7], [5, 2, 1], [2, 5, 1, 5], [2, 5, 1, 0, 0], [2, 5, 1, -1],
                                      [2, 9, 1], [2, 5], [2, 5, 3, 1, 1, 1, 1]])
def test_out_of_range_nodes_are_rejected(trained_full, bad_node):
    _, obj = trained_full
    roots = obj["witness"]["split_roots"] + [[2, 5, 1], [2, 5, 2]]
    roots = [list(r) for r in {tuple(r) for r in roots}]
    expect_rejected(obj, {"split_roots": roots, "split_nodes": obj["witness"]["split_nodes"] + [bad_node]})


def test_malformed_witness_shapes_are_rejected(trained_full):
    _, obj = trained_full
    for witness in ({}, {"split_roots": []}, {"split_roots": [], "split_nodes": [], "extra": 1},
                    {"split_roots": {}, "split_nodes": []}, {"split_roots": [[0, 0, "0x"]], "split_nodes": []}):
        expect_rejected(obj, witness)


def test_removing_splits_only_lowers_what_is_certified(trained_full):
    """A wrong plan (fewer splits) is still sound; the exact claim then fails."""
    w, obj = trained_full
    wit = obj["witness"]
    true = int(exact_correct_mask(w).sum())
    fewer = {"split_roots": wit["split_roots"], "split_nodes": []}
    bad = copy.deepcopy(obj)
    bad["witness"] = fewer
    verdict = check_certificate(load_certificate_obj(bad, "<bad>"))
    assert verdict.certified <= true
    assert not verdict.ok and verdict.certified < obj["claim"]["certified_count"]
    assert_sound(w, fewer)


def test_invalid_budget_knob_is_rejected(trained_full):
    _, obj = trained_full
    bad = copy.deepcopy(obj)
    bad["strategy"]["knobs"] = {"budget": "3e9"}
    with pytest.raises(CertificateError):
        load_certificate_obj(bad, "<bad>")
    bad["strategy"]["knobs"] = {}
    with pytest.raises(CertificateError):
        load_certificate_obj(bad, "<bad>")
