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
    """The paper's training recipe (docs/training.md)."""

    seed: int = 123
    steps: int = 3000
    batch_size: int = 128
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.01
    init_std_scale: float = 0.8  # std = init_std_scale / sqrt(d_model)


WEIGHT_NAMES: tuple[str, ...] = ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_U")
SHOWCASE_SEED = 123


# --------------------------------------------------------------------------------------------
# Named configurations (issue #14): the six Max-of-K shapes of the reference. All six train with
# the one recipe TrainConfig() (docs/training.md): only the shape differs.

CONFIGS: dict[str, ModelConfig] = {
    "k4": ModelConfig(64, 4, 32, 32),
    "k5": ModelConfig(64, 5, 32, 32),
    "k10-v64": ModelConfig(64, 10, 32, 32),
    "k10-v128": ModelConfig(128, 10, 32, 32),
    "k20-v64": ModelConfig(64, 20, 32, 32),
    "k20-v512": ModelConfig(512, 20, 32, 32),
}

# The reference's published cubic results per configuration (issue #14's text): mean +- std of
# the cubic bound over its seeds, and its seconds per model. Context for reports, never a result.
REFERENCE_CUBIC: dict[str, tuple[str, str]] = {
    "k4": ("0.9531 +- 0.0087", "README.md table"),
    "k5": ("0.9412 +- 0.0113", "51-55 s"),
    "k10-v128": ("0.882 +- 0.012", "937-1008 s"),
}


def config_name(config: ModelConfig) -> str:
    """The CONFIGS name of ``config`` ("k5", ...), else ``n{n}-v{v}-d{d}-h{h}``."""
    for name, c in CONFIGS.items():
        if c == config:
            return name
    return f"n{config.n_ctx}-v{config.d_vocab}-d{config.d_model}-h{config.d_head}"


def config_by_name(name: str) -> ModelConfig:
    """CONFIGS[name]; ValueError naming the known configurations otherwise."""
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"{name!r}: unknown configuration; expected one of {', '.join(CONFIGS)}") from None


def recipe_name(config: ModelConfig) -> str:
    """Label of the training recipe for ``config``: the paper's Max-of-4 recipe with this shape."""
    if config == ModelConfig():
        return "paper-max-of-4"
    return f"paper-max-of-{config.n_ctx}-v{config.d_vocab}-d{config.d_model}-h{config.d_head}"


def models_subdir(config: ModelConfig) -> str:
    """Folder (inside the models folder) of the models of ``config``: "" for the paper's (64, 4,
    32, 32) (models/seed-S.safetensors, as before), ``n{n}-v{v}`` for d_model = d_head = 32,
    ``n{n}-v{v}-d{d}-h{h}`` otherwise."""
    if config == ModelConfig():
        return ""
    if config.d_model == 32 and config.d_head == 32:
        return f"n{config.n_ctx}-v{config.d_vocab}"
    return f"n{config.n_ctx}-v{config.d_vocab}-d{config.d_model}-h{config.d_head}"
