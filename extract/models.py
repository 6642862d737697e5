"""Where models live and how they come to be: seed -> file, ``seed:S`` on the command line, the
paper's seeds, training on demand, and the training recipe each model file records.

Layout: the model of seed S is ``MODELS/seed-S.safetensors`` (our safetensors format,
extract/weights.py). A model trained here records its recipe, the fields of
``extract.config.TrainConfig``, as JSON under the safetensors metadata key ``train_config``.
Files written before that key existed carry ``recipe = "paper-max-of-4"`` with ``seed`` and
``steps``; their writer always used the paper's recipe with those two fields changed, so they
read back as ``TrainConfig(seed, steps)``. A file without either (e.g. an imported
TransformerLens state_dict) has no recipe: its results rows say ``"imported"`` (a file in
another format) or ``"unknown"`` (our format, no recipe recorded).

Claim of ``ensure``-style functions (``train_seed``, ``inspect_model``): a model file whose
recorded recipe differs from the recipe asked for is never reused silently; it is a one-line
error naming the file and the differing fields.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Sequence
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from tqdm import tqdm

from extract.certificate import weights_sha256
from extract.config import ModelConfig, TrainConfig, config_name, models_subdir
from extract.errors import SweepError, UserError
from extract.model import ModelWeights
from extract.train import train
from extract.weights import FORMAT_TAG, ModelFileError, read_model_file, save_model

PAPER_SEEDS_FILE = Path(__file__).parent / "data" / "paper_seeds_max_of_4.txt"
RECIPE_KEY = "train_config"
LEGACY_RECIPE = "paper-max-of-4"
IMPORTED = "imported"
UNKNOWN = "unknown"


def paper_seeds() -> list[int]:
    """The paper's 151 Max-of-4 seeds, in the order of the reference list."""
    return [int(tok) for tok in PAPER_SEEDS_FILE.read_text().split()]


def model_path(models_dir: Path, seed: int, config: ModelConfig | None = None) -> Path:
    """The file of the model of shape ``config`` (default the paper's) trained with seed ``seed``:
    MODELS/seed-S.safetensors for the paper's (64, 4, 32, 32), else
    MODELS/n{n}-v{v}/seed-S.safetensors (``extract.config.models_subdir``)."""
    sub = models_subdir(config or ModelConfig())
    return Path(models_dir) / sub / f"seed-{seed}.safetensors" if sub else Path(models_dir) / f"seed-{seed}.safetensors"


def resolve_model(spec: str, models_dir: Path, config: ModelConfig | None = None) -> Path:
    """MODEL on the command line: a file path, or ``seed:S`` for a model of shape ``config``
    (default the paper's) trained with --seed S."""
    if spec.startswith("seed:"):
        try:
            seed = int(spec[5:])
        except ValueError:
            raise UserError(f"{spec}: expected seed:INTEGER") from None
        path = model_path(models_dir, seed, config)
        if not path.exists():
            hint = "" if config is None or config == ModelConfig() else f" --config {config_name(config)}"
            raise UserError(f"{path}: no such model; train it with `compact-proofs train --seed {seed}{hint}`")
        return path
    path = Path(spec)
    if not path.exists():
        raise UserError(f"{path}: no such model file")
    return path


def load_model_spec(spec: str, models_dir: Path, config: ModelConfig | None = None) -> ModelWeights:
    """The weights named by MODEL on the command line (a path or ``seed:S``); UserError otherwise."""
    path = resolve_model(spec, models_dir, config)
    return read_model(path)[0]


def read_model(path: Path) -> tuple[ModelWeights, dict[str, str]]:
    """The weights and metadata of a model file; an unreadable file is a one-line SweepError."""
    try:
        return read_model_file(path)
    except ModelFileError as e:
        raise SweepError(str(e)) from None


def load_weights(path: Path, config: ModelConfig) -> ModelWeights:
    """The weights in ``path``; SweepError if unreadable or of another shape than ``config``."""
    weights, _ = read_model(path)
    check_shape(path, weights, config)
    return weights


def check_shape(path: Path, weights: ModelWeights, config: ModelConfig) -> None:
    """SweepError unless the model's shape is ``config``."""
    if weights.config != config:
        w = weights.config
        raise SweepError(f"{path}: model shape (v={w.d_vocab}, n={w.n_ctx}, d={w.d_model}, d_head={w.d_head}) "
                         f"differs from the sweep's (v={config.d_vocab}, n={config.n_ctx}, d={config.d_model}, "
                         f"d_head={config.d_head}); use another --models-dir")


# --------------------------------------------------------------------------------------------
# Recipes


def recipe_record(cfg: TrainConfig) -> dict[str, Any]:
    """The recipe as plain JSON data: every TrainConfig field (betas as a list)."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()}


def recipe_metadata(cfg: TrainConfig) -> dict[str, str]:
    """Safetensors metadata recording ``cfg``: ``train_config`` (JSON of every field), plus
    ``seed`` and ``steps`` for a reader that looks only at those."""
    return {RECIPE_KEY: json.dumps(recipe_record(cfg), sort_keys=True), "seed": str(cfg.seed), "steps": str(cfg.steps)}


def recipe_from_metadata(path: Path, meta: dict[str, str]) -> TrainConfig | None:
    """The recipe a model file records, or None if it records none.

    ``train_config`` (JSON of the TrainConfig fields) wins; else the legacy triple
    ``recipe = paper-max-of-4``, ``seed``, ``steps`` means TrainConfig(seed, steps) with the
    paper's other fields. A present but unreadable record is a one-line SweepError.
    """
    if RECIPE_KEY in meta:
        where = f"{path}: __metadata__.{RECIPE_KEY}"
        try:
            obj = json.loads(meta[RECIPE_KEY])
        except ValueError:
            raise SweepError(f"{where}: expected a JSON object of TrainConfig fields") from None
        names = {f.name for f in fields(TrainConfig)}
        if not isinstance(obj, dict) or set(obj) != names:
            raise SweepError(f"{where}: expected a JSON object with exactly the fields {', '.join(sorted(names))}")
        try:
            return TrainConfig(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in obj.items()})
        except (TypeError, ValueError) as e:
            raise SweepError(f"{where}: {e}") from None
    if meta.get("recipe") == LEGACY_RECIPE and "seed" in meta and "steps" in meta:
        try:
            return TrainConfig(seed=int(meta["seed"]), steps=int(meta["steps"]))
        except ValueError:
            raise SweepError(f"{path}: __metadata__.seed/steps: expected integers") from None
    return None


def provenance(path: Path, meta: dict[str, str]) -> dict[str, Any] | str:
    """What a results row records as the model's training recipe: the recipe's fields, or
    ``"imported"`` (a file not in our format, e.g. a TransformerLens state_dict) or
    ``"unknown"`` (our format without a recorded recipe)."""
    cfg = recipe_from_metadata(path, meta)
    if cfg is not None:
        return recipe_record(cfg)
    return UNKNOWN if meta.get("format") == FORMAT_TAG else IMPORTED


def recipe_mismatch(path: Path, recorded: TrainConfig | None, asked: TrainConfig) -> str | None:
    """None if ``recorded`` is ``asked`` or unknown; else the one-line error naming what differs."""
    if recorded is None or recorded == asked:
        return None
    diffs = ", ".join(f"{f.name}={getattr(recorded, f.name)!r} (asked {getattr(asked, f.name)!r})"
                      for f in fields(TrainConfig) if getattr(recorded, f.name) != getattr(asked, f.name))
    return (f"{path}: trained with another recipe than the one asked for: {diffs}; ask for the same recipe "
            f"(--steps), use another --models-dir, or retrain it with `compact-proofs train --seed {asked.seed} "
            f"--steps {asked.steps} --force`")


@dataclass(frozen=True)
class ModelInfo:
    """A model file as a sweep uses it: its weights' SHA-256 and its recorded recipe."""

    path: Path
    weights_sha256: str
    recipe: dict[str, Any] | str
    config: ModelConfig = ModelConfig()


def inspect_model(path: Path, config: ModelConfig | None, asked: TrainConfig | None) -> ModelInfo:
    """Read ``path``: SweepError if unreadable, of another shape than ``config`` (None: any
    shape), or trained with a recorded recipe other than ``asked``; else its weight hash,
    recipe record and shape."""
    weights, meta = read_model(path)
    if config is not None:
        check_shape(path, weights, config)
    if asked is not None:
        problem = recipe_mismatch(path, recipe_from_metadata(path, meta), asked)
        if problem:
            raise SweepError(problem)
    return ModelInfo(path, weights_sha256(weights), provenance(path, meta), weights.config)


MODEL_SUFFIXES: tuple[str, ...] = (".safetensors", ".pt", ".pth")


def expand_model_files(items: Sequence[str | Path] = (), patterns: Sequence[str] = ()) -> list[Path]:
    """The model files named on the command line, in order, duplicates dropped: each item is a
    file, or a folder (its files ending in .safetensors, .pt or .pth, sorted by name); each
    pattern is a glob (``**`` recursive), its matches sorted. SweepError (one line) for a
    missing file, a folder without model files, or a pattern that matches nothing."""
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and q.suffix in MODEL_SUFFIXES)
            if not found:
                raise SweepError(f"--models: {p}: no *{', *'.join(MODEL_SUFFIXES)} files in this folder")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise SweepError(f"--models: {p}: no such model file or folder")
    for pattern in patterns:
        found = sorted(Path(m) for m in glob.glob(pattern, recursive=True) if Path(m).is_file())
        if not found:
            raise SweepError(f"--models-glob: {pattern!r} matches no file")
        out.extend(found)
    unique: list[Path] = []
    for p in out:
        if p not in unique:
            unique.append(p)
    return unique


# --------------------------------------------------------------------------------------------
# Training on demand


def train_to_file(config: ModelConfig, cfg: TrainConfig, path: Path, progress: bool = False) -> Path:
    """Train with ``cfg`` and write the model with its recipe to ``path`` atomically (tmp + rename)."""
    weights = train(config, cfg, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    save_model(weights, tmp, recipe_metadata(cfg))
    os.replace(tmp, path)
    return path


def train_seed(seed: int, models_dir: Path, steps: int, progress: bool, force: bool = False,
               config: ModelConfig | None = None) -> tuple[Path, bool]:
    """Train (or reuse) the model of ``seed``; returns its path and whether it was trained now.

    An existing file is reused only if its recorded recipe is TrainConfig(seed, steps) or
    unknown; another recorded recipe is a UserError (``force`` retrains instead).
    """
    path = model_path(models_dir, seed, config)
    cfg = TrainConfig(seed=seed, steps=steps)
    if path.exists() and not force:
        _, meta = read_model(path)
        problem = recipe_mismatch(path, recipe_from_metadata(path, meta), cfg)
        if problem:
            raise UserError(problem)
        return path, False
    train_to_file(config or ModelConfig(), cfg, path, progress=progress)
    return path, True


def train_seeds(seeds: list[int], models_dir: Path, steps: int, force: bool = False,
                config: ModelConfig | None = None) -> int:
    """train_seed for every seed with a progress bar; the number of models trained now."""
    trained = 0
    for s in tqdm(seeds, desc="training paper seeds", unit="model"):
        trained += train_seed(s, models_dir, steps, progress=False, force=force, config=config)[1]
    return trained


@dataclass(frozen=True)
class TrainJob:
    """One model to train in a worker (picklable)."""

    seed: int
    config: ModelConfig
    steps: int
    models_dir: str


def train_job(job: TrainJob) -> dict[str, Any]:
    """Train the model of ``job.seed`` unless its file exists; written atomically (tmp + rename)."""
    path = model_path(Path(job.models_dir), job.seed, job.config)
    if path.exists():
        return {"seed": job.seed, "path": str(path), "trained": False, "seconds": 0.0}
    t0 = time.perf_counter()
    train_to_file(job.config, TrainConfig(seed=job.seed, steps=job.steps), path)
    return {"seed": job.seed, "path": str(path), "trained": True, "seconds": time.perf_counter() - t0}
