"""Mutation fuzzing of the checker: no mutated certificate of any strategy is ever accepted falsely.

Valid certificates of every strategy (single-sequence, brute-force, cubic, subcubic with
several knob settings) are written for tiny trained and random models; each mutation below
changes one thing, as an attacker editing the file would. The oracle (tests/oracle.py)
gives the true number of correct sequences of the mutated weights. Every mutated
certificate is checked in-process and classified:

    rejected malformed   CertificateError (bad form, hash mismatch, over budget, ...)
    rejected failing     well-formed, certified < claimed
    internal error       a strategy raised (reported as such, never accepted)
    accepted             certified >= claimed
    accepted and false   accepted although claimed > the true count (must be 0)

and, stronger, every well-formed one must certify at most the true count. The default run
tries DEFAULT_MUTATIONS mutations; `pytest -m slow tests/test_fuzz.py` tries SLOW_MUTATIONS.
`python -m tests.test_fuzz N` prints the table for N mutations.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import sys
import time
from collections import Counter
from typing import Any, Callable

import numpy as np
import pytest

from checker.certificate import JSON_SAFE_INT
from checker.errors import CertificateError
from checker.load import load_certificate_obj, parse_json_bytes
from checker.registry import STRATEGY_MODULES
from checker.verify import CheckerInternalError, check_certificate
from extract.certificate import build_certificate, encode_weights
from extract.config import ModelConfig
from extract.model import ModelWeights
from extract.search import refine as search_refine
from extract.search import subcubic as search_subcubic
from tests.oracle import exact_correct_count, tiny_trained_weights

DEFAULT_MUTATIONS = 300
SLOW_MUTATIONS = 10_000
SUBCUBIC_KNOBS = [
    dict(direct_path="max_diff_exact", attention="mean+diff", attention_error="exact_EQKE+max_diff_exact"),
    dict(direct_path="mean_query+max_diff", attention="per-query", attention_error="max_diff"),
    dict(direct_path="svd_query+max_diff", attention="mean+diff", attention_error="mean+max_diff_subproduct_recursive"),
    dict(direct_path="global_max_diff_exact", attention="per-query", attention_error="svd"),
]
REFINE_BUDGETS = ["0", "2e5", "full"]
OUTCOMES = ("rejected malformed", "rejected failing", "internal error", "accepted", "accepted and false")


@functools.lru_cache(maxsize=None)
def models() -> tuple[ModelWeights, ...]:
    """Two tiny trained models (many sequences certified) and two random ones."""
    return (
        tiny_trained_weights(ModelConfig(5, 3, 6, 6), seed=11, steps=400),
        tiny_trained_weights(ModelConfig(4, 4, 4, 4), seed=12, steps=400),
        ModelWeights.random(ModelConfig(4, 3, 4, 3), seed=13),
        ModelWeights.random(ModelConfig(3, 2, 3, 2), seed=14, scale=3.0),
    )


def _checked_claim(cert: dict[str, Any]) -> dict[str, Any]:
    """The certificate with its claim set to what the checker certifies (a valid, tight certificate)."""
    certified = check_certificate(load_certificate_obj(cert, "<base>")).certified
    return dict(cert, claim={"certified_count": certified})


@functools.lru_cache(maxsize=None)
def base_certificates() -> tuple[tuple[dict[str, Any], int], ...]:
    """(valid certificate, index of its model) for every strategy on every model."""
    out = []
    for i, w in enumerate(models()):
        v, n = w.config.d_vocab, w.config.n_ctx
        out.append((build_certificate(w, "single-sequence", {}, {"sequence": [v - 1] * n}, 0), i))
        out.append((build_certificate(w, "brute-force", {}, {}, 0), i))
        out.append((build_certificate(w, "cubic", {}, {}, 0), i))
        for knobs in SUBCUBIC_KNOBS:
            out.append((build_certificate(w, "subcubic", knobs, search_subcubic.search(w, knobs).witness, 0), i))
        out.append((build_certificate(w, "cubic-sharp", {}, {}, 0), i))
        for budget in ("2e5", "full"):
            plan = search_refine.search(w, {"budget": budget}).witness
            out.append((build_certificate(w, "refine", {"budget": budget}, plan, 0), i))
    assert {c["strategy"]["name"] for c, _ in out} == set(STRATEGY_MODULES)
    return tuple((_checked_claim(c), i) for c, i in out)


# ---------------------------------------------------------------- mutations


def _leaves(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every scalar (and empty container) below obj."""
    if isinstance(obj, dict) and obj:
        return [p for k, v in obj.items() for p in _leaves(v, path + (k,))]
    if isinstance(obj, list) and obj:
        return [p for i, v in enumerate(obj) for p in _leaves(v, path + (i,))]
    return [path]


def _nodes(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(obj, dict):
        out += [p for k, v in obj.items() for p in _nodes(v, path + (k,))]
    elif isinstance(obj, list):
        out += [p for i, v in enumerate(obj) for p in _nodes(v, path + (i,))]
    return out


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    _get(obj, path[:-1])[path[-1]] = value


def _as_int(x: Any) -> int | None:
    if type(x) is int:
        return x
    if isinstance(x, str) and x.lstrip("-").isdigit():
        return int(x)
    return None


def _new_int(rnd: random.Random, x: int) -> int:
    return rnd.choice([x + 1, x - 1, -x, 0, 1, x * 2, x // 2, x + rnd.randint(-5, 5), rnd.randint(-10, 10),
                       x + (1 << rnd.randint(8, 70)), -(1 << 64), 1 << 64, rnd.randint(0, 100)])


def mutate_claim(c: dict[str, Any], rnd: random.Random, w: ModelWeights) -> None:
    x = _as_int(c["claim"]["certified_count"]) or 0
    total = w.config.d_vocab ** w.config.n_ctx
    c["claim"]["certified_count"] = rnd.choice([x + 1, x + rnd.randint(1, 10), total, rnd.randint(0, total), x - 1])


def mutate_witness_int(c: dict[str, Any], rnd: random.Random, w: ModelWeights) -> None:
    ints = [p for p in _leaves(c["witness"]) if p and _as_int(_get(c["witness"], p)) is not None]
    if not ints:
        c["witness"]["extra"] = rnd.randint(0, 3)
        return
    p = rnd.choice(ints)
    new = _new_int(rnd, _as_int(_get(c["witness"], p)))  # type: ignore[arg-type]
    _set(c["witness"], p, new if abs(new) <= JSON_SAFE_INT else str(new))


def mutate_witness_shape(c: dict[str, Any], rnd: random.Random, w: ModelWeights) -> None:
    nodes = [p for p in _nodes(c["witness"]) if p]
    if not nodes:
        c["witness"] = rnd.choice([[], {"sequence": []}, {"gaps": 1}])
        return
    p = rnd.choice(nodes)
    parent, key = _get(c["witness"], p[:-1]), p[-1]
    op = rnd.randrange(5)
    if op == 0:
        del parent[key]
    elif op == 1 and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))
    else:
        parent[key] = rnd.choice([1.5, True, None, "x", [], {}, [1, 2], str(rnd.randint(0, 9)), 10**400])


def mutate_weight_rehashed(c: dict[str, Any], rnd: random.Random, w: ModelWeights) -> ModelWeights:
    """Change one float32 weight and write the weights and hash anew: a consistent file for other weights."""
    t = {k: a.copy() for k, a in w.tensors().items()}
    name = rnd.choice(sorted(t))
    a = t[name]
    i, j = rnd.randrange(a.shape[0]), rnd.randrange(a.shape[1])
    x = float(a[i, j])
    a[i, j] = np.float32(rnd.choice([0.0, -x, 2 * x, x / 2, x + rnd.uniform(-1, 1), x * (1 + 2**-20), rnd.gauss(0, 3)]))
    w2 = ModelWeights.from_tensors(w.config, t)
    c["weights"], c["weights_sha256"] = encode_weights(w2)
    return w2


def mutate_weight_raw(c: dict[str, Any], rnd: random.Random, w: ModelWeights) -> None:
    """Change one mantissa or exponent without fixing the hash."""
    name = rnd.choice(sorted(c["weights"]))
    t = c["weights"][name]
    if rnd.random() < 0.3:
        t["exponent"] = _new_int(rnd, t["exponent"])
    else:
        row = rnd.choice(t["mantissas"])
        k = rnd.randrange(len(row))
        row[k] = _new_int(rnd, _as_int(row[k]) or 0)


def mutate_header(c: dict[str, Any], rnd: random.Random, w: ModelWeights) -> None:
    """Another strategy, another knob value, or other dimensions, keeping everything else."""
    op = rnd.randrange(3)
    if op == 0:
        c["strategy"]["name"] = rnd.choice(sorted(STRATEGY_MODULES))
        c["strategy"]["knobs"] = rnd.choice([{}, dict(rnd.choice(SUBCUBIC_KNOBS)), {"budget": rnd.choice(REFINE_BUDGETS)}])
    elif op == 1 and c["strategy"]["knobs"]:
        k = rnd.choice(sorted(c["strategy"]["knobs"]))
        values = REFINE_BUDGETS if k == "budget" else [kn[k] for kn in SUBCUBIC_KNOBS]
        c["strategy"]["knobs"] = dict(c["strategy"]["knobs"], **{k: rnd.choice(values)})
    else:
        key = rnd.choice(["d_vocab", "n_ctx", "d_model", "d_head"])
        c["model"][key] = _new_int(rnd, c["model"][key])


def mutate_json(c: dict[str, Any], rnd: random.Random, w: ModelWeights) -> None:
    """Any node anywhere: deleted, retyped, or a key added."""
    p = rnd.choice([q for q in _nodes(c) if q])
    parent, key = _get(c, p[:-1]), p[-1]
    op = rnd.randrange(3)
    if op == 0:
        del parent[key]
    elif op == 1:
        parent[key] = rnd.choice([1.0, False, None, "1", [], {}, -1, 2**70])
    elif isinstance(parent, dict):
        parent["zz"] = 0


MUTATIONS: list[tuple[str, Callable[[dict[str, Any], random.Random, ModelWeights], Any], int]] = [
    ("claim", mutate_claim, 3),
    ("witness integer", mutate_witness_int, 4),
    ("witness shape", mutate_witness_shape, 2),
    ("weight, hash rewritten", mutate_weight_rehashed, 3),
    ("weight, hash kept", mutate_weight_raw, 1),
    ("header", mutate_header, 2),
    ("any JSON node", mutate_json, 1),
]


# ---------------------------------------------------------------- the run


_TRUTH: dict[str, int] = {}


def _true_count(weights_sha256: str, w: ModelWeights) -> int:
    """The oracle's exact count for weights w (cached by their hash)."""
    if weights_sha256 not in _TRUTH:
        _TRUTH[weights_sha256] = exact_correct_count(w)
    return _TRUTH[weights_sha256]


def fuzz(count: int, seed: int = 0) -> tuple[Counter[str], list[str]]:
    """Try ``count`` mutations; return the outcome counts and a description of every false acceptance
    or over-certification (both must stay empty)."""
    rnd = random.Random(seed)
    bases = base_certificates()
    weights = models()
    names = [m for m, _, k in MUTATIONS for _ in range(k)]
    table = {m: f for m, f, _ in MUTATIONS}
    outcomes: Counter[str] = Counter()
    bad: list[str] = []
    for t in range(count):
        base, i = bases[t % len(bases)]
        c = copy.deepcopy(base)
        kind = rnd.choice(names)
        w = table[kind](c, rnd, weights[i])
        w = w if isinstance(w, ModelWeights) else weights[i]
        outcomes["tried"] += 1
        try:
            verdict = check_certificate(load_certificate_obj(parse_json_bytes(json.dumps(c).encode()), "<fuzz>"))
        except CertificateError:
            outcomes["rejected malformed"] += 1
            continue
        except CheckerInternalError:
            outcomes["internal error"] += 1
            continue
        truth = _true_count(c["weights_sha256"], w)
        if verdict.certified > truth:
            bad.append(f"mutation {t} ({kind}, {base['strategy']}): certified {verdict.certified} > true {truth}")
        if verdict.ok:
            outcomes["accepted"] += 1
            if verdict.claimed > truth:
                outcomes["accepted and false"] += 1
                bad.append(f"mutation {t} ({kind}, {base['strategy']}): accepted claim {verdict.claimed} > true {truth}")
        else:
            outcomes["rejected failing"] += 1
    return outcomes, bad


def _assert_sound(count: int, seed: int) -> Counter[str]:
    outcomes, bad = fuzz(count, seed)
    assert not bad, bad[:5]
    assert outcomes["tried"] == count and outcomes["accepted and false"] == 0
    assert outcomes["accepted"] > 0 and outcomes["rejected malformed"] > 0 and outcomes["rejected failing"] > 0
    return outcomes


def test_every_strategy_has_a_valid_base_certificate_that_is_accepted() -> None:
    for c, i in base_certificates():
        v = check_certificate(load_certificate_obj(c, "<base>"))
        assert v.ok and v.certified <= _true_count(c["weights_sha256"], models()[i])


def test_a_few_hundred_mutations_accept_nothing_false() -> None:
    _assert_sound(DEFAULT_MUTATIONS, seed=1)


@pytest.mark.slow
def test_ten_thousand_mutations_accept_nothing_false() -> None:
    _assert_sound(SLOW_MUTATIONS, seed=2)


if __name__ == "__main__":  # python -m tests.test_fuzz N [SEED]: print the table
    n = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MUTATIONS
    t0 = time.perf_counter()
    result, problems = fuzz(n, int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    print("| mutations tried | " + " | ".join(OUTCOMES) + " | seconds |")
    print("| --- " * (len(OUTCOMES) + 2) + "|")
    print(f"| {result['tried']} | " + " | ".join(str(result[o]) for o in OUTCOMES) + f" | {time.perf_counter() - t0:.0f} |")
    for p in problems:
        print(p)
