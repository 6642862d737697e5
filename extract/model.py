"""The Max-of-K model of semantics.md in plain torch, and its weights as plain arrays.

One layer, one head, attention only, no LayerNorm, learned positions, all biases zero,
attention scale 1/sqrt(d_head), causal mask; only the last position's logits are used
(with one layer they depend on the other positions only through attention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from extract.config import WEIGHT_NAMES, ModelConfig


@dataclass(frozen=True)
class ModelWeights:
    """Exact float32 weights of one model, in the math shapes of semantics.md."""

    config: ModelConfig
    W_E: np.ndarray
    W_pos: np.ndarray
    W_Q: np.ndarray
    W_K: np.ndarray
    W_V: np.ndarray
    W_O: np.ndarray
    W_U: np.ndarray

    def __post_init__(self) -> None:
        for name, shape in self.config.weight_shapes().items():
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.dtype != np.float32:
                raise TypeError(f"{name} must be a float32 numpy array")
            if arr.shape != shape:
                raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} has a non-finite entry")

    def tensors(self) -> dict[str, np.ndarray]:
        """The weight tensors by canonical name, in canonical order."""
        return {name: getattr(self, name) for name in WEIGHT_NAMES}

    @staticmethod
    def from_tensors(config: ModelConfig, tensors: dict[str, np.ndarray]) -> "ModelWeights":
        arrays = {name: np.ascontiguousarray(np.asarray(tensors[name], dtype=np.float32)) for name in WEIGHT_NAMES}
        return ModelWeights(config=config, **arrays)

    @staticmethod
    def random(config: ModelConfig, seed: int, scale: float = 1.0) -> "ModelWeights":
        """Random weights (for tests): i.i.d. normal(0, scale/sqrt(d_model)), rounded to float32."""
        rng = np.random.default_rng(seed)
        std = scale / math.sqrt(config.d_model)
        return ModelWeights.from_tensors(
            config,
            {n: (rng.standard_normal(s) * std).astype(np.float32) for n, s in config.weight_shapes().items()},
        )


class MaxOfKTransformer(nn.Module):
    """Torch module computing the last-position logits of semantics.md."""

    def __init__(self, config: ModelConfig, init_std: float | None = None, generator: torch.Generator | None = None):
        super().__init__()
        self.config = config
        std = 0.8 / math.sqrt(config.d_model) if init_std is None else init_std
        for name, shape in config.weight_shapes().items():
            param = torch.empty(shape, dtype=torch.float32)
            with torch.no_grad():
                param.normal_(0.0, std, generator=generator)
            setattr(self, name, nn.Parameter(param))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens [batch, n_ctx] (int64) -> logits [batch, d_vocab] at the last position."""
        x = self.W_E[tokens] + self.W_pos  # [b, n, d]
        query = x[:, -1, :] @ self.W_Q  # [b, h]
        keys = x @ self.W_K  # [b, n, h]
        scores = torch.einsum("bph,bh->bp", keys, query) / math.sqrt(self.config.d_head)
        attn = torch.softmax(scores, dim=-1)  # [b, n]; the last position sees every position
        values = x @ self.W_V  # [b, n, h]
        head = torch.einsum("bp,bph->bh", attn, values) @ self.W_O  # [b, d]
        return (x[:, -1, :] + head) @ self.W_U

    def weights(self) -> ModelWeights:
        """A detached float32 copy of the parameters."""
        return ModelWeights.from_tensors(
            self.config, {name: getattr(self, name).detach().cpu().numpy().copy() for name in WEIGHT_NAMES}
        )

    @staticmethod
    def from_weights(weights: ModelWeights) -> "MaxOfKTransformer":
        model = MaxOfKTransformer(weights.config)
        with torch.no_grad():
            for name, arr in weights.tensors().items():
                getattr(model, name).copy_(torch.from_numpy(arr.copy()))
        return model


@dataclass(frozen=True)
class FloatPaths:
    """The path matrices of semantics.md in float64 (a heuristic view, never a proof).

    EUPU [v,v], EVOU [v,v], PVOU [n,v], EQKE [v,v], EQKP [v,n]; scores are *not* divided by
    sqrt(d_head) here.
    """

    EUPU: np.ndarray
    EVOU: np.ndarray
    PVOU: np.ndarray
    EQKE: np.ndarray
    EQKP: np.ndarray
    inv_sqrt_dhead: float


def float_paths(weights: ModelWeights) -> FloatPaths:
    """Float64 path matrices (the float32 weights are converted exactly, products rounded)."""
    t = {k: v.astype(np.float64) for k, v in weights.tensors().items()}
    E, P, Q, K, V, O, U = (t[n] for n in WEIGHT_NAMES)
    Eq = E + P[-1]
    QK = Q @ K.T
    VOU = V @ O @ U
    return FloatPaths(
        EUPU=Eq @ U,
        EVOU=E @ VOU,
        PVOU=P @ VOU,
        EQKE=Eq @ QK @ E.T,
        EQKP=Eq @ QK @ P.T,
        inv_sqrt_dhead=1.0 / math.sqrt(weights.config.d_head),
    )


def logits_from_paths(paths: FloatPaths, tokens: np.ndarray) -> np.ndarray:
    """Last-position logits via the path decomposition: tokens [b, n] -> [b, v] (float64)."""
    q = tokens[:, -1]
    n = tokens.shape[1]
    scores = (paths.EQKE[q[:, None], tokens] + paths.EQKP[q][:, :n]) * paths.inv_sqrt_dhead
    scores -= scores.max(axis=1, keepdims=True)
    w = np.exp(scores)
    a = w / w.sum(axis=1, keepdims=True)
    ov = paths.EVOU[tokens] + paths.PVOU[None, :, :]  # [b, n, v]
    return paths.EUPU[q] + np.einsum("bp,bpv->bv", a, ov)
