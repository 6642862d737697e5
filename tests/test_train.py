"""Training follows the paper's recipe deterministically (docs/training.md)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from extract.accuracy import float_brute_force
from extract.config import WEIGHT_NAMES, ModelConfig, TrainConfig
from extract.train import derived_seed, generator_for, last_position_loss, sample_batch, train
from extract.weights import save_model

TINY = ModelConfig(d_vocab=8, n_ctx=3, d_model=8, d_head=8)


def test_same_seed_gives_byte_identical_model_files(tmp_path: Path) -> None:
    cfg = TrainConfig(seed=7, steps=40)
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    save_model(train(TINY, cfg), a, {"seed": "7"})
    save_model(train(TINY, cfg), b, {"seed": "7"})
    assert a.read_bytes() == b.read_bytes()


def test_different_seeds_give_different_models() -> None:
    a = train(TINY, TrainConfig(seed=1, steps=5))
    b = train(TINY, TrainConfig(seed=2, steps=5))
    assert not np.array_equal(a.W_E, b.W_E)


def test_init_and_data_streams_are_distinct_and_stable() -> None:
    assert derived_seed(123, "init") != derived_seed(123, "data")
    assert derived_seed(123, "init") != derived_seed(124, "init")
    assert derived_seed(123, "init") == derived_seed(123, "init")
    assert 0 <= derived_seed(5, "data") < 2**64
    x = torch.rand(4, generator=generator_for(9, "data"))
    y = torch.rand(4, generator=generator_for(9, "data"))
    assert torch.equal(x, y)


def test_zero_steps_is_the_initialisation_with_the_paper_std() -> None:
    config = ModelConfig(d_vocab=64, n_ctx=4, d_model=32, d_head=32)
    w = train(config, TrainConfig(seed=3, steps=0))
    flat = np.concatenate([a.ravel() for a in w.tensors().values()]).astype(np.float64)
    expected = 0.8 / math.sqrt(32)
    assert abs(flat.mean()) < 0.05 * expected
    assert abs(flat.std() - expected) < 0.03 * expected


def test_batches_are_uniform_tokens_labelled_by_their_max() -> None:
    tokens, labels = sample_batch(TINY, 20000, generator_for(0, "data"))
    assert tokens.shape == (20000, TINY.n_ctx) and tokens.dtype == torch.int64
    assert torch.equal(labels, tokens.max(dim=1).values)
    counts = torch.bincount(tokens.ravel(), minlength=TINY.d_vocab).double()
    expected = tokens.numel() / TINY.d_vocab
    assert ((counts - expected).abs() < 5 * math.sqrt(expected)).all()


def test_loss_is_cross_entropy_of_the_last_position_in_float64() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(16, 10, generator=g) * 30
    labels = torch.randint(0, 10, (16,), generator=g)
    loss = last_position_loss(logits, labels)
    assert loss.dtype == torch.float64
    ref = torch.nn.functional.cross_entropy(logits.double(), labels)
    assert torch.allclose(loss, ref, rtol=1e-12, atol=0)


def test_training_restores_torch_threads_and_determinism_flag() -> None:
    threads = torch.get_num_threads()
    flag = torch.are_deterministic_algorithms_enabled()
    train(TINY, TrainConfig(seed=0, steps=2))
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == flag


def test_training_learns_max_on_a_tiny_model() -> None:
    """500 steps on v=10, n=3 take the float accuracy far above chance (1/10)."""
    w = train(ModelConfig(10, 3, 8, 8), TrainConfig(seed=1, steps=500))
    assert float_brute_force(w).accuracy > 0.8
    assert tuple(w.tensors()) == WEIGHT_NAMES


@pytest.mark.slow
def test_showcase_seed_reaches_the_papers_accuracy() -> None:
    """Seed 123 with the full recipe: float accuracy >= 0.99 (paper: 0.99916 +- 0.00148)."""
    w = train(ModelConfig(), TrainConfig(seed=123))
    assert float_brute_force(w).accuracy >= 0.99


# --------------------------------------------------------------------------------------------
# The recipe a model file records (extract/models.py)


def test_a_trained_model_file_records_its_recipe_and_reads_it_back(tmp_path: Path) -> None:
    from extract.models import provenance, recipe_from_metadata, recipe_record, train_to_file
    from extract.weights import read_model_file

    cfg = TrainConfig(seed=4, steps=3, batch_size=16, lr=2e-3, betas=(0.8, 0.99), weight_decay=0.0)
    path = train_to_file(TINY, cfg, tmp_path / "m.safetensors")
    _, meta = read_model_file(path)
    assert recipe_from_metadata(path, meta) == cfg
    assert provenance(path, meta) == recipe_record(cfg)
    assert recipe_record(cfg)["betas"] == [0.8, 0.99] and recipe_record(cfg)["lr"] == 2e-3


def test_model_files_without_a_recipe_record_say_so(tmp_path: Path) -> None:
    """Legacy files (recipe=paper-max-of-4, seed, steps) read as the paper's recipe; our format
    without a recipe is "unknown"; a TransformerLens file is "imported"."""
    from extract.models import provenance, recipe_from_metadata
    from extract.weights import export_transformerlens_state_dict, read_model_file

    w = train(TINY, TrainConfig(seed=1, steps=1))
    legacy = tmp_path / "legacy.safetensors"
    save_model(w, legacy, {"seed": "9", "steps": "250", "recipe": "paper-max-of-4"})
    assert recipe_from_metadata(legacy, read_model_file(legacy)[1]) == TrainConfig(seed=9, steps=250)
    bare = tmp_path / "bare.safetensors"
    save_model(w, bare, {"seed": "9"})
    assert provenance(bare, read_model_file(bare)[1]) == "unknown"
    tl = tmp_path / "tl.pt"
    torch.save(export_transformerlens_state_dict(w), tl)
    assert provenance(tl, read_model_file(tl)[1]) == "imported"


def test_an_unreadable_recipe_record_is_a_one_line_error(tmp_path: Path) -> None:
    from extract.errors import SweepError
    from extract.models import recipe_from_metadata

    for bad in ("not json", '{"seed": 1}', '{"seed": 1, "steps": 2, "batch_size": 3, "lr": 0.1, "betas": [0.9, 0.9], '
                '"weight_decay": 0.0, "init_std_scale": 0.8, "extra": 1}'):
        with pytest.raises(SweepError, match=r"m.safetensors: __metadata__.train_config: expected"):
            recipe_from_metadata(tmp_path / "m.safetensors", {"train_config": bad})


def test_train_refuses_to_reuse_a_model_of_another_recipe(tmp_path: Path) -> None:
    from extract.errors import UserError
    from extract.models import train_seed

    path, new = train_seed(3, tmp_path, steps=2, progress=False, config=TINY)
    assert new and train_seed(3, tmp_path, steps=2, progress=False, config=TINY) == (path, False)
    with pytest.raises(UserError, match=r"seed-3.safetensors: trained with another recipe .*steps=2 \(asked 5\)"):
        train_seed(3, tmp_path, steps=5, progress=False, config=TINY)
    assert train_seed(3, tmp_path, steps=5, progress=False, force=True, config=TINY) == (path, True)
