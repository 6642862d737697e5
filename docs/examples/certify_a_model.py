# %% [markdown]
# # Certify a Max-of-4 model with compact-proofs
#
# `certify_a_model.ipynb` and `certify_a_model.py` (its script form, `# %%` marks a cell) hold
# the same cells. It trains (or reuses) a model, proves lower bounds on its accuracy with three proof strategies of the
# paper, brute force, cubic and the best subcubic variant, has each proof re-checked by the
# independent exact checker, and plots bound against proof length.
#
# Needs the package (`pip install -e '.[plot]'` in the repository); it works in the repository
# root (found from the current folder), where `models/` and `out/` live. Script:
# `python docs/examples/certify_a_model.py` (about a minute for the paper's model, seed 123). With `--tiny` (or the environment
# variable `COMPACT_PROOFS_TINY=1`) it uses a tiny model (6 tokens, 3 positions) and runs in
# seconds; `COMPACT_PROOFS_OUT` sets the output folder (default `out/example`).
#
# What the numbers mean:
# - **certified**: the number of input sequences the checker proved the model gets right
#   (exact arithmetic; the untrusted search only proposes);
# - **bound** = certified / v^n, an exact fraction: a proved lower bound on the accuracy;
# - **checker ops**: exact arithmetic operations the checker spent, the proof's length.

# %%
import os
import sys
from pathlib import Path

import compact_proofs as cp

TINY = os.environ.get("COMPACT_PROOFS_TINY") == "1" or "--tiny" in sys.argv
ROOT = next((d for d in (Path.cwd(), *Path.cwd().parents) if (d / "pyproject.toml").exists()), Path.cwd())
os.chdir(ROOT)  # models/ and out/ are relative to the repository root
OUT = Path(os.environ.get("COMPACT_PROOFS_OUT", "out/example"))

# %% [markdown]
# ## 1. A model
#
# `cp.train(seed)` trains with the paper's recipe (deterministic per seed) and saves the model,
# or reuses the file when it is already there. Any TransformerLens `HookedTransformer` of this
# architecture (or its state dict, or a `.pt` file of it) can be certified instead.

# %%
if TINY:
    model = cp.train(5, config=cp.ModelConfig(d_vocab=6, n_ctx=3, d_model=8, d_head=8), steps=300,
                     models_dir=OUT / "models")
else:
    model = cp.train(123, progress=True)  # models/seed-123.safetensors
print("model:", model)

# %% [markdown]
# ## 2. The strategies
#
# Each strategy has a stable id (what `certify` and the command line take) and the paper's name.

# %%
catalogue = cp.strategies()
print(len(catalogue), "strategies; the default subcubic variant:",
      next(s.id for s in catalogue if s.is_default))
BEST_SUBCUBIC = "subcubic:max_diff_exact/mean+diff/exact_EQKE+max_diff_exact"  # best median bound in docs/results/paper-sweep
chosen = ["brute-force", "cubic", BEST_SUBCUBIC, "subcubic"]  # "subcubic" alone: the default variant

# %% [markdown]
# ## 3. Certify, and check every certificate with the independent checker

# %%
results = [cp.certify(model, s, out=OUT / "certificates") for s in chosen]
for r in results:
    print(f"{r.paper_name}\n    id {r.strategy}: certified {r.certified:,} of {r.n_sequences:,} "
          f"= {r.bound} ~ {float(r.bound):.4f}; {r.ops:,} checker ops; claim holds: {r.ok}")
assert all(r.ok for r in results)

# %% [markdown]
# A certificate is a plain JSON file; anyone can re-check it without trusting this code
# (`python -m checker FILE`, or from Python):

# %%
verdict = cp.check(results[1].certificate)
print(verdict.ok, verdict.certified, verdict.ops)

# %% [markdown]
# ## 4. Bound against proof length
#
# The paper plots the same trade-off against FLOPs of its float code; the note in the figure
# gives both cost measures per proof class. For many models, see `compact-proofs sweep` and
# `compact-proofs report`.

# %%
fig = cp.plot_bound_vs_cost(results, OUT / "bound_vs_cost.png", title="One model: bound vs proof length")
print("plot:", OUT / "bound_vs_cost.png")
fig
