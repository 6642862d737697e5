"""The README's results table over the paper's seeds, generated from committed results rows.

``paper_sweep_table(rows)`` is the markdown table of README.md section "Results over the paper's
seeds (K = 4)": for each listed strategy, the number of models with an accepted certificate,
the mean +- sample standard deviation and the range of the bound (certified / v^n, from the
exact counts), and the median checker operations. The reference column holds the paper's
published numbers for its own models (facts, not computed here). tests/test_readme.py checks
that README.md holds exactly this table for docs/results/paper-sweep/results.csv; regenerate it
with ``python -m extract.readme_tables docs/results/paper-sweep/results.csv``.
"""

from __future__ import annotations

import csv
import statistics
import sys
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

PAPER_SWEEP_ROWS: tuple[tuple[str, str, str], ...] = (  # (strategy id, label, the reference's number)
    ("brute-force", "brute force", "0.99916 +- 0.00148 (0.99146-0.99992)"),
    ("cubic", "cubic", "0.9531 +- 0.0087 (0.918-0.971)"),
    ("subcubic:max_diff_exact/mean+diff/exact_EQKE+max_diff_exact",
     "best subcubic (exact direct path, mean+diff, exact EQKE)", "0.838 (seed 50)"),
    ("subcubic:max_diff_exact/mean+diff/max_diff_exact", "exact direct path, mean+diff, error max_diff_exact", "0.8365 (seed 50)"),
    ("subcubic:mean_query+max_diff/mean+diff/max_diff", "subcubic default", "0.708 (seed 50)"),
    ("subcubic:mean_query+max_diff/mean+diff/svd", "mean_query, mean+diff, svd", "0.648 (seed 50)"),
    ("subcubic:mean_query+max_diff/mean+diff/max_diff_subproduct_recursive", "almost quadratic (recursive)",
     "0.31-0.32 (seed 50)"),
    ("subcubic:mean_query+max_diff/per-query/max_diff", "default without mean+diff", "0.04-0.11 (seed 50)"),
    ("subcubic:max_diff/mean+diff/max_diff", "max_diff direct path", "0.57-0.68 (seed 50)"),
)


def paper_sweep_table(rows: Sequence[dict[str, Any]]) -> str:
    """The markdown table (header and one line per PAPER_SWEEP_ROWS entry) over the ok rows."""
    lines = ["| strategy | models | bound mean +- std | range | median checker ops | reference |",
             "|---|---|---|---|---|---|"]
    for sid, label, ref in PAPER_SWEEP_ROWS:
        mine = [r for r in rows if r["strategy"] == sid and r["verdict"] == "ok"]
        bounds = [float(Fraction(int(r["certified"]), int(r["n_sequences"]))) for r in mine]
        ops = statistics.median(int(r["ops"]) for r in mine)
        std = statistics.stdev(bounds) if len(bounds) > 1 else 0.0
        lines.append(f"| {label} | {len(mine)} | {statistics.mean(bounds):.4f} +- {std:.4f} | "
                     f"{min(bounds):.4f}-{max(bounds):.4f} | {ops:.2e} | {ref} |")
    return "\n".join(lines) + "\n"


def rows_of_csv(path: str | Path) -> list[dict[str, Any]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


if __name__ == "__main__":
    sys.stdout.write(paper_sweep_table(rows_of_csv(sys.argv[1] if len(sys.argv) > 1 else "docs/results/paper-sweep/results.csv")))
