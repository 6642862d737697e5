"""The README's results table over the paper's seeds is the one generated from the committed results."""

from __future__ import annotations

from pathlib import Path

from extract.readme_tables import paper_sweep_table, rows_of_csv

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_paper_sweep_table_is_generated_from_the_committed_results() -> None:
    table = paper_sweep_table(rows_of_csv(ROOT / "docs/results/paper-sweep/results.csv"))
    assert table in (ROOT / "README.md").read_text(), (
        "README.md's table differs from `python -m extract.readme_tables`; paste its output into the README")
