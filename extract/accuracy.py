"""Float brute force: the model's accuracy over all v^n sequences (an estimate, not a proof).

This is the baseline that the exact checker is compared with. It evaluates the model through
the path matrices of semantics.md in float64 and uses that the unnormalised attention weight
of position p, w_p = exp(s_p - c), depends only on (q, p, t_p). Hence, for a fixed query
token q,

    Z * logit(x) = sum_p w_p(q, t_p) * (EVOU[t_p, x] + PVOU[p, x] + EUPU[q, x]),   Z = sum_p w_p > 0

is a sum of per-position table rows T_p[t_p, x], and all sequences sharing q are an outer sum
of those tables: about v^n * v additions in total instead of a full forward pass per sequence.
Since Z > 0, "logit(m) > logit(x) for every x != m" is decided on Z * logit. A tie counts as
wrong. Floats make this a heuristic: near-ties may be decided differently from exact reals.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from extract.errors import UserError
from extract.model import FloatPaths, MaxOfKTransformer, ModelWeights, float_paths, logits_from_paths

EXP_SAFE = 600.0  # exp(600) ~ 1e260: sums of a few such terms stay finite in float64
MAX_SEQUENCES = 2**34  # beyond: refused (hours of work; also keeps int64 indices exact)


class TooManySequences(UserError):
    """The float brute force was asked for more than MAX_SEQUENCES sequences."""


def refusal(v: int, n: int) -> str | None:
    """None if the float brute force is affordable at (v, n), else the one-line reason."""
    if v**n <= MAX_SEQUENCES:
        return None
    return (f"float accuracy over all v^n = {v**n:.3e} sequences (n_ctx={n}, d_vocab={v}) is refused beyond "
            f"2^34 = {MAX_SEQUENCES:.3e}; use --sample N for a sampled estimate")


@dataclass(frozen=True)
class SampledAccuracy:
    """Float64 evaluation of ``samples`` sequences drawn uniformly (with replacement) from all
    v^n: ``correct`` of them have logit[m] strictly largest. An estimate of the accuracy with
    binomial standard error ``stderr``; not a proof and not exhaustive."""

    correct: int
    samples: int
    seed: int
    seconds: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.samples

    @property
    def stderr(self) -> float:
        p = self.accuracy
        return math.sqrt(max(p * (1 - p), 0.0) / self.samples)


def sampled_accuracy(weights: ModelWeights, samples: int, seed: int = 0, chunk: int = 1 << 14) -> SampledAccuracy:
    """Float64 accuracy on ``samples`` uniform random sequences (numpy Generator(seed)); any (n, v)."""
    if samples < 1:
        raise UserError(f"--sample {samples}: expected a positive number of sequences")
    start = time.perf_counter()
    v, n = weights.config.d_vocab, weights.config.n_ctx
    paths = float_paths(weights)
    rng = np.random.default_rng(seed)
    correct = 0
    for lo in range(0, samples, chunk):
        tokens = rng.integers(0, v, size=(min(chunk, samples - lo), n))
        logits = logits_from_paths(paths, tokens)
        rows = np.arange(len(tokens))
        m = tokens.max(axis=1)
        at_max = logits[rows, m].copy()
        logits[rows, m] = -np.inf
        correct += int((at_max > logits.max(axis=1)).sum())
    return SampledAccuracy(correct, samples, seed, time.perf_counter() - start)


@dataclass(frozen=True)
class FloatAccuracy:
    """Float evaluation of all v^n sequences: ``correct`` of ``total`` have logit[m] strictly
    above every other logit; ``wrong_indices`` are the lexicographic indices
    (sum_p t_p * v^(n-1-p)) of the others, sorted; ``seconds`` is the wall time."""

    correct: int
    total: int
    seconds: float
    wrong_indices: np.ndarray

    @property
    def accuracy(self) -> float:
        return self.correct / self.total


def _trailing_positions(v: int, free: int, batch_size: int) -> int:
    """How many of the ``free`` non-query positions to enumerate inside one block (v^k rows <= batch_size, k >= 1 if free)."""
    k = 0
    while k < free and v ** (k + 1) <= batch_size:
        k += 1
    return max(k, min(1, free))


def float_brute_force(
    weights: ModelWeights, batch_size: int = 4096, progress: bool = False, threads: int | None = 1
) -> FloatAccuracy:
    """Count the sequences whose max token's logit is strictly largest (float64 path evaluation).

    ``batch_size`` bounds the rows of one block (sequences evaluated per vector operation);
    ``threads`` sets torch's intra-op threads for the call (None leaves them as they are).
    More than MAX_SEQUENCES = 2^34 sequences: TooManySequences (one line), so every index fits int64.
    """
    problem = refusal(weights.config.d_vocab, weights.config.n_ctx)
    if problem:
        raise TooManySequences(problem)
    start = time.perf_counter()
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        correct, wrong = _count(weights, batch_size, progress)
    finally:
        torch.set_num_threads(old_threads)
    v, n = weights.config.d_vocab, weights.config.n_ctx
    return FloatAccuracy(correct, v**n, time.perf_counter() - start, np.sort(wrong))


def _count(weights: ModelWeights, batch_size: int, progress: bool) -> tuple[int, np.ndarray]:
    v, n = weights.config.d_vocab, weights.config.n_ctx
    paths = float_paths(weights)
    f64 = torch.float64
    EVOU = torch.tensor(paths.EVOU, dtype=f64)
    PVOU = torch.tensor(paths.PVOU, dtype=f64)
    EUPU = torch.tensor(paths.EUPU, dtype=f64)
    # scores[q, t, p] = (EQKE[q, t] + EQKP[q, p]) / sqrt(d_head)
    scores = (torch.tensor(paths.EQKE, dtype=f64)[:, :, None] + torch.tensor(paths.EQKP, dtype=f64)[:, None, :]) * paths.inv_sqrt_dhead
    free = n - 1  # positions 0..n-2 are free; position n-1 holds the query token q
    k = _trailing_positions(v, free, batch_size)
    lead = free - k
    rows = v**k
    tok = torch.arange(v)
    trailing_max = torch.zeros([v] * k, dtype=torch.int64)  # max token among the k trailing positions
    for j in range(k):
        shape = [1] * k
        shape[j] = v
        trailing_max = torch.maximum(trailing_max, tok.view(shape))
    trailing_max = trailing_max.reshape(-1)
    row_ids = torch.arange(rows, dtype=torch.int64)

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=v**n, desc="float brute force", unit="seq", unit_scale=True)
    correct = 0
    wrong: list[np.ndarray] = []
    try:
        for q in range(v):
            # Relative to the query position's own score, so w_{n-1} = 1 and Z >= 1 for every
            # sequence with this q (no sequence can have all its weights underflow).
            s = scores[q] - scores[q, q, n - 1]
            if float(s.max()) > EXP_SAFE:
                wrong.append(_per_sequence_wrong(paths, q, v, n))
                correct += v ** (n - 1) - len(wrong[-1])
                if bar is not None:
                    bar.update(v ** (n - 1))
                continue
            w = torch.exp(s)  # [t, p], finite and positive
            tables = [w[:, p, None] * (EVOU + PVOU[p] + EUPU[q]) for p in range(n)]  # T_p[t, x]
            block = torch.zeros([1] * k + [v], dtype=f64)
            for j in range(k):
                shape = [1] * k + [v]
                shape[j] = v
                block = block + tables[lead + j].view(shape)
            block = block.reshape(rows, v)
            for lead_index, lead_tokens in enumerate(itertools.product(range(v), repeat=lead)):
                base = tables[n - 1][q].clone()
                for p, t in enumerate(lead_tokens):
                    base += tables[p][t]
                m = torch.clamp(trailing_max, min=max((q, *lead_tokens)))[:, None]
                scaled = block + base  # Z * logits, [rows, v]
                at_max = scaled.gather(1, m)[:, 0]
                scaled.scatter_(1, m, -math.inf)
                ok = at_max > scaled.amax(dim=1)
                n_ok = int(ok.sum())
                correct += n_ok
                if n_ok < rows:
                    bad = row_ids[~ok]
                    wrong.append(((lead_index * rows + bad) * v + q).numpy())
            if bar is not None:
                bar.update(v ** (n - 1))
    finally:
        if bar is not None:
            bar.close()
    return correct, (np.concatenate(wrong) if wrong else np.zeros(0, dtype=np.int64))


def _per_sequence_wrong(paths: FloatPaths, q: int, v: int, n: int, chunk: int = 8192) -> np.ndarray:
    """Lexicographic indices of the wrong sequences ending in q, by a normalised softmax per sequence.

    The fallback for a query row whose score span would overflow exp in the outer-sum scheme.
    """
    out = []
    total = v ** (n - 1)
    for lo in range(0, total, chunk):
        idx = np.arange(lo, min(lo + chunk, total), dtype=np.int64) * v + q
        tokens = np.stack([(idx // v ** (n - 1 - p)) % v for p in range(n)], axis=1)
        logits = logits_from_paths(paths, tokens)
        rows = np.arange(len(idx))
        m = tokens.max(axis=1)
        at_max = logits[rows, m].copy()
        logits[rows, m] = -np.inf
        out.append(idx[~(at_max > logits.max(axis=1))])
    return np.concatenate(out)


def all_sequences(v: int, n: int) -> np.ndarray:
    """All v^n sequences [v^n, n] (int64) in lexicographic order (index = sum_p t_p * v^(n-1-p)).

    For tests on tiny models only: v^n x n int64 entries (43 GB at n = 5, v = 64)."""
    grids = np.meshgrid(*[np.arange(v, dtype=np.int64)] * n, indexing="ij")
    return np.stack([g.reshape(-1) for g in grids], axis=1)


def float_brute_force_forward(
    weights: ModelWeights, batch_size: int = 1 << 16, progress: bool = False, threads: int | None = 1
) -> FloatAccuracy:
    """The same count through the float32 torch forward pass of MaxOfKTransformer, batched.

    A slower cross-check (and the benchmark's baseline); float32 rounding may decide a few
    near-ties differently from ``float_brute_force``.
    """
    start = time.perf_counter()
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    v, n = weights.config.d_vocab, weights.config.n_ctx
    total = v**n
    model = MaxOfKTransformer.from_weights(weights)
    correct = 0
    wrong: list[np.ndarray] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="float forward", unit="seq", unit_scale=True)
    try:
        with torch.no_grad():
            for lo in range(0, total, batch_size):
                idx = torch.arange(lo, min(lo + batch_size, total), dtype=torch.int64)
                tokens = torch.stack([(idx // v ** (n - 1 - p)) % v for p in range(n)], dim=1)
                logits = model(tokens)
                m = tokens.max(dim=1).values[:, None]
                at_max = logits.gather(1, m)[:, 0]
                logits.scatter_(1, m, -math.inf)
                ok = at_max > logits.amax(dim=1)
                correct += int(ok.sum())
                wrong.append(idx[~ok].numpy())
                if bar is not None:
                    bar.update(len(idx))
    finally:
        torch.set_num_threads(old_threads)
        if bar is not None:
            bar.close()
    return FloatAccuracy(correct, total, time.perf_counter() - start, np.sort(np.concatenate(wrong)))
