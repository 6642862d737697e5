"""Training a Max-of-K model with the paper's recipe (docs/training.md), deterministically per seed.

Recipe: every weight initialised normal(0, 0.8/sqrt(d_model)); each step draws a batch of
sequences with n tokens i.i.d. uniform on 0..v-1 (label = max); cross-entropy on the last
position's logits, with the log-softmax taken in float64; AdamW (lr 1e-3, betas (0.9, 0.999),
weight decay 0.01); batch 128; 3000 steps. CPU, float32 parameters, deterministic algorithms,
one torch thread: the same (config, TrainConfig) gives bit-identical weights.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Iterator

import torch

from extract.config import ModelConfig, TrainConfig
from extract.model import MaxOfKTransformer, ModelWeights


def derived_seed(seed: int, label: str) -> int:
    """A 64-bit seed for the stream named ``label`` of model ``seed``: the first 8 bytes of
    sha256(f"{seed}/{label}"), so the init and data streams of one seed are independent."""
    digest = hashlib.sha256(f"{seed}/{label}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def generator_for(seed: int, label: str) -> torch.Generator:
    """A CPU torch generator seeded with ``derived_seed(seed, label)``."""
    gen = torch.Generator(device="cpu")
    gen.manual_seed(derived_seed(seed, label))
    return gen


@contextlib.contextmanager
def deterministic_torch(threads: int = 1) -> Iterator[None]:
    """Run the body with deterministic algorithms and ``threads`` intra-op threads, restoring both."""
    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    old_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old_det, warn_only=old_warn)
        torch.set_num_threads(old_threads)


def sample_batch(config: ModelConfig, batch_size: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of i.i.d. uniform token sequences [batch, n_ctx] (int64) and their labels max(t)."""
    tokens = torch.randint(0, config.d_vocab, (batch_size, config.n_ctx), generator=gen, dtype=torch.int64)
    return tokens, tokens.max(dim=1).values


def last_position_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the last-position logits [b, v] against labels [b], log-softmax in float64."""
    logprobs = torch.log_softmax(logits.to(torch.float64), dim=-1)
    return -logprobs.gather(1, labels[:, None]).mean()


def train(config: ModelConfig, cfg: TrainConfig, progress: bool = False, threads: int = 1) -> ModelWeights:
    """Train one model with the paper's recipe; deterministic in (config, cfg, threads).

    ``threads`` is the torch intra-op thread count used during training (restored afterwards).
    One thread is the default: for these tiny matrices it was faster than two in our
    measurements (benchmarks/bench_foundation.py), and it keeps the result independent of
    the machine's core count.
    """
    with deterministic_torch(threads):
        init_gen = generator_for(cfg.seed, "init")
        data_gen = generator_for(cfg.seed, "data")
        init_std = cfg.init_std_scale / math.sqrt(config.d_model)
        model = MaxOfKTransformer(config, init_std=init_std, generator=init_gen)
        opt = torch.optim.AdamW(
            model.parameters(), lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay, foreach=False
        )
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=cfg.steps, desc=f"training seed {cfg.seed}", unit="step")
        try:
            for step in range(cfg.steps):
                tokens, labels = sample_batch(config, cfg.batch_size, data_gen)
                loss = last_position_loss(model(tokens), labels)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if bar is not None:
                    bar.update(1)
                    if step % 100 == 0 or step == cfg.steps - 1:
                        bar.set_postfix(loss=f"{loss.item():.4f}")
        finally:
            if bar is not None:
                bar.close()
        return model.weights()
