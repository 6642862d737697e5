"""Test oracle: the TRUE set of correct sequences of a (small) model, decided independently.

Not part of the product and not trusted by it: it is the yardstick soundness tests compare every
strategy's certified count with. Float64 margins decide every sequence whose margin is far from
zero; the rest are re-decided with mpmath at 60 significant digits over the exact dyadic weights
(float32 -> Fraction is exact). A margin below 1e-40 in absolute value at that precision is taken
as an exact tie, which counts as wrong (semantics.md).
"""

from __future__ import annotations

import functools
from fractions import Fraction

import mpmath
import numpy as np

from extract.config import ModelConfig, TrainConfig
from extract.model import ModelWeights, float_paths, logits_from_paths

FLOAT_DECISIVE = 1e-7  # relative to the logit scale: far above float64 path errors (~1e-14)
TIE = mpmath.mpf("1e-40")


def all_sequences(v: int, n: int) -> np.ndarray:
    """Every sequence of {0..v-1}^n in lexicographic order: row i has index i = sum t_p v^(n-1-p)."""
    idx = np.arange(v**n, dtype=np.int64)
    return np.stack([(idx // v ** (n - 1 - p)) % v for p in range(n)], axis=1)


def float_margins_and_scale(weights: ModelWeights, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(logit[m] - max_{x != m} logit[x], max_x |logit[x]|) in float64 (a heuristic).

    The float64 error of a margin is proportional to the size of the logits, not of the margin,
    so decisiveness must be judged against the second value.
    """
    logits = logits_from_paths(float_paths(weights), tokens)
    scale = np.abs(logits).max(axis=1)
    m = tokens.max(axis=1)
    rows = np.arange(len(tokens))
    correct_logit = logits[rows, m]
    logits[rows, m] = -np.inf
    return correct_logit - logits.max(axis=1), scale


def float_margins(weights: ModelWeights, tokens: np.ndarray) -> np.ndarray:
    """logit[m] - max_{x != m} logit[x] in float64 (a heuristic)."""
    return float_margins_and_scale(weights, tokens)[0]


def fraction_paths(weights: ModelWeights) -> dict[str, list[list[Fraction]]]:
    """The path matrices of semantics.md, computed literally from their definitions in Fractions.

    float32 -> Fraction is exact, so every entry is the exact real value. Also returns E_q.
    """
    def fr(a: np.ndarray) -> list[list[Fraction]]:
        return [[Fraction(float(x)) for x in row] for row in a]

    def mm(a: list[list[Fraction]], b: list[list[Fraction]]) -> list[list[Fraction]]:
        cols = list(zip(*b))
        return [[sum((x * y for x, y in zip(r, c)), Fraction(0)) for c in cols] for r in a]

    def tr(a: list[list[Fraction]]) -> list[list[Fraction]]:
        return [list(r) for r in zip(*a)]

    t = {k: fr(v) for k, v in weights.tensors().items()}
    E, P, Q, K, V, O, U = (t[k] for k in ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_U"))
    Eq = [[e + p for e, p in zip(row, P[-1])] for row in E]
    return {
        "EUPU": mm(Eq, U),
        "EVOU": mm(mm(mm(E, V), O), U),
        "PVOU": mm(mm(mm(P, V), O), U),
        "EQKE": mm(mm(mm(Eq, Q), tr(K)), tr(E)),
        "EQKP": mm(mm(mm(Eq, Q), tr(K)), tr(P)),
        "E_q": Eq,
    }


_exact_matrices = fraction_paths


def _mp_correct(mats: dict[str, list[list[Fraction]]], d_head: int, seq: tuple[int, ...]) -> bool:
    """Decide one sequence at 60 digits: logit[m] > logit[x] for all x != m, ties wrong."""
    with mpmath.workdps(60):
        def mp(f: Fraction) -> mpmath.mpf:
            return mpmath.mpf(f.numerator) / f.denominator

        n = len(seq)
        q, m = seq[-1], max(seq)
        scale = 1 / mpmath.sqrt(d_head)
        s = [mp(mats["EQKE"][q][t] + mats["EQKP"][q][p]) * scale for p, t in enumerate(seq)]
        top = max(s)
        w = [mpmath.exp(x - top) for x in s]
        z = sum(w)
        v = len(mats["EUPU"])

        def logit(x: int) -> mpmath.mpf:
            return mp(mats["EUPU"][q][x]) + sum(
                w[p] / z * mp(mats["EVOU"][seq[p]][x] + mats["PVOU"][p][x]) for p in range(n)
            )

        lm = logit(m)
        return all(lm - logit(x) > TIE for x in range(v) if x != m)


def exact_correct_mask(weights: ModelWeights, batch: int = 1 << 16) -> np.ndarray:
    """Boolean mask over all v^n sequences (lexicographic order): True iff the sequence is correct."""
    cfg = weights.config
    v, n = cfg.d_vocab, cfg.n_ctx
    out = np.zeros(v**n, dtype=bool)
    ambiguous: list[int] = []
    for start in range(0, v**n, batch):
        idx = np.arange(start, min(start + batch, v**n), dtype=np.int64)
        tokens = np.stack([(idx // v ** (n - 1 - p)) % v for p in range(n)], axis=1)
        margins, scale = float_margins_and_scale(weights, tokens)
        logits_scale = 1.0 + scale
        out[idx] = margins > FLOAT_DECISIVE * logits_scale
        amb = np.abs(margins) <= FLOAT_DECISIVE * logits_scale
        ambiguous.extend(idx[amb].tolist())
    if ambiguous:
        mats = _exact_matrices(weights)
        for i in ambiguous:
            seq = tuple(int((i // v ** (n - 1 - p)) % v) for p in range(n))
            out[i] = _mp_correct(mats, cfg.d_head, seq)
    return out


def exact_correct_count(weights: ModelWeights) -> int:
    """The true number of correct sequences (see module docstring for how it is decided)."""
    return int(exact_correct_mask(weights).sum())


@functools.lru_cache(maxsize=256)
def tiny_trained_weights(config: ModelConfig, seed: int, steps: int = 300) -> ModelWeights:
    """A tiny model trained briefly with the paper's recipe, so that many proof cases certify."""
    from extract.train import train

    return train(config, TrainConfig(seed=seed, steps=steps), progress=False)


def random_tiny_config(rng: np.random.Generator, v: tuple[int, int] = (6, 12), n: tuple[int, int] = (2, 4),
                       d: tuple[int, int] = (4, 8), max_sequences: int | None = None) -> ModelConfig:
    """A random tiny configuration (inclusive ranges); d_head = d_model or a smaller random width.

    With ``max_sequences``, d_vocab is capped so that v^n <= max_sequences (never below 2), which
    keeps the exact oracle affordable at n = 5, 6 (e.g. 2e5: v <= 11 at n = 5, v <= 7 at n = 6).
    The default (None) draws exactly as before, so existing seeds give the same configurations.
    """
    dm = int(rng.integers(d[0], d[1] + 1))
    vocab = int(rng.integers(v[0], v[1] + 1))
    n_ctx = int(rng.integers(n[0], n[1] + 1))
    if max_sequences is not None:
        while vocab > 2 and vocab**n_ctx > max_sequences:
            vocab -= 1
    return ModelConfig(
        d_vocab=vocab,
        n_ctx=n_ctx,
        d_model=dm,
        d_head=int(rng.integers(max(1, d[0] - 2), dm + 1)),
    )


def seq_index(seq: tuple[int, ...], v: int) -> int:
    idx = 0
    for t in seq:
        idx = idx * v + t
    return idx


def tiny_model_zoo(count: int, seed: int) -> list[tuple[str, ModelWeights]]:
    """Random tiny configurations: briefly trained models (many cases certify) and random weights."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        v = int(rng.integers(4, 13))
        n = int(rng.integers(2, 5))
        if v ** n > 12**3 and n == 4:
            v = int(rng.integers(4, 8))
        d = int(rng.integers(4, 9))
        dh = int(rng.integers(2, d + 1))
        cfg = ModelConfig(d_vocab=v, n_ctx=n, d_model=d, d_head=dh)
        kind = i % 5
        if kind == 0:
            w = tiny_trained_weights(ModelConfig(d_vocab=min(v, 8), n_ctx=n, d_model=d, d_head=dh), int(rng.integers(1 << 15)), 300)
            out.append(("trained", w))
        else:
            scale = float(rng.choice([0.3, 1.0, 3.0, 10.0]))
            out.append((f"random(scale={scale})", ModelWeights.random(cfg, int(rng.integers(1 << 30)), scale=scale)))
    return out


__all__ = [
    "seq_index",
    "tiny_model_zoo",
    "all_sequences",
    "exact_correct_count",
    "exact_correct_mask",
    "float_margins",
    "random_tiny_config",
    "tiny_trained_weights",
]
