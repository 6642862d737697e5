"""Configuration of the Max-of-K model and of its training run (one dataclass each)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ModelConfig:
    """Shape of a 1-layer, 1-head, attention-only Max-of-K transformer (semantics.md).

    d_vocab = v tokens, n_ctx = n positions (the sequence length K), residual width d_model,
    head width d_head. The paper's model is (64, 4, 32, 32).
    """

    d_vocab: int = 64
    n_ctx: int = 4
    d_model: int = 32
    d_head: int = 32

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"ModelConfig.{name} must be a positive integer, got {value!r}")
        if self.d_vocab < 2:
            raise ValueError("ModelConfig.d_vocab must be at least 2")

    @property
    def n_sequences(self) -> int:
        """v^n: the number of input sequences the accuracy theorem quantifies over."""
        return self.d_vocab**self.n_ctx

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        """Math shapes of every weight tensor, in canonical order (semantics.md)."""
        v, n, d, h = self.d_vocab, self.n_ctx, self.d_model, self.d_head
        return {
            "W_E": (v, d),
            "W_pos": (n, d),
            "W_Q": (d, h),
            "W_K": (d, h),
            "W_V": (d, h),
            "W_O": (h, d),
            "W_U": (d, v),
        }


@dataclass(frozen=True)
class TrainConfig:
    """The paper's training recipe (training.md)."""

    seed: int = 123
    steps: int = 3000
    batch_size: int = 128
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.01
    init_std_scale: float = 0.8  # std = init_std_scale / sqrt(d_model)


WEIGHT_NAMES: tuple[str, ...] = ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_U")
SHOWCASE_SEED = 123
