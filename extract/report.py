"""Summaries of sweep results: statistics per family and knob, Pareto frontiers, plots.

Only rows whose verdict is "ok" (the independent checker certified at least the claim) enter the
statistics and plots; every other row is counted and listed, never averaged in. A row's *bound* is
the checker-certified count / v^n; its *normalised bound* divides by the brute-force bound of the
same model (same weights SHA-256) when that row exists and is "ok".

The Pareto frontier of a set of (cost, bound) points is the set of points that no other point
dominates, where q dominates p when q.cost <= p.cost and q.bound >= p.bound with one of them strict
(cheaper or tighter). Identical points are either all on the frontier or all off it.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from extract.errors import SweepError
from extract.journal import (
    JOURNAL,
    RESULTS_FORMAT,
    RESULTS_JSON,
    latest_rows,
    model_label,
    model_order,
    read_journal,
    validate_row,
)

REPORT_MD = "report.md"
SUMMARY_JSON = "summary.json"
PLOT_FRONTIER = "bound_vs_ops.png"
PLOT_FAMILIES = "bounds_by_family.png"


class ReportError(Exception):
    """A missing, empty or malformed results folder: one line naming the file and what was expected."""


# --------------------------------------------------------------------------------------------
# Loading


def load_rows(results_dir: Path) -> list[dict[str, Any]]:
    """The latest row of every (model, strategy) in ``results_dir`` (journal first, else results.json).
    A model is a trained seed or a model file (extract.journal.row_key)."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ReportError(f"{results_dir}: no such results folder; expected the --results folder of a sweep")
    try:
        if (results_dir / JOURNAL).exists():
            rows = list(latest_rows(read_journal(results_dir)).values())
        elif (results_dir / RESULTS_JSON).exists():
            rows = _rows_from_results_json(results_dir / RESULTS_JSON)
        else:
            raise ReportError(f"{results_dir}: no {JOURNAL} or {RESULTS_JSON}; expected the --results folder of a sweep")
    except SweepError as e:
        raise ReportError(str(e)) from None
    if not rows:
        raise ReportError(f"{results_dir / JOURNAL}: no rows yet; run the sweep first")
    return sorted(rows, key=lambda r: (model_order(r), r["strategy"]))


def rows_of_models(rows: list[dict[str, Any]], weights: set[str] | None, where: Path) -> list[dict[str, Any]]:
    """The rows whose model has one of the weight hashes ``weights`` (all rows when None);
    ReportError if none is left."""
    if weights is None:
        return rows
    kept = [r for r in rows if r["weights_sha256"] in weights]
    if not kept:
        raise ReportError(f"{where}: no row is about the given model files (compared by weights hash); "
                          "sweep them first: compact-proofs sweep --models ...")
    return kept


def _rows_from_results_json(path: Path) -> list[dict[str, Any]]:
    try:
        obj = json.loads(path.read_text())
    except (ValueError, OSError) as e:
        raise ReportError(f"{path}: not readable JSON ({e})") from None
    if not isinstance(obj, dict) or obj.get("format") != RESULTS_FORMAT or not isinstance(obj.get("rows"), list):
        raise ReportError(f"{path}: field 'format'/'rows': expected a {RESULTS_FORMAT} object with a rows list")
    for i, row in enumerate(obj["rows"]):
        validate_row(row, f"{path}: rows[{i}]")
    return obj["rows"]


# --------------------------------------------------------------------------------------------
# Pure computations


def pareto_frontier(points: Sequence[tuple[Any, Any]]) -> list[int]:
    """Indices of the points (cost, bound) that no other point dominates, sorted by (cost, index).

    q dominates p iff q.cost <= p.cost, q.bound >= p.bound and (q.cost < p.cost or q.bound > p.bound).
    Sort by cost; a point is on the frontier iff its bound is the largest among its cost group and
    strictly larger than every bound at a strictly smaller cost.
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][0], i))
    best_before: Any = None  # best bound at strictly smaller cost
    out: list[int] = []
    i = 0
    while i < len(order):
        j = i
        cost = points[order[i]][0]
        while j < len(order) and points[order[j]][0] == cost:
            j += 1
        group = order[i:j]
        top = max(points[k][1] for k in group)
        if best_before is None or top > best_before:
            out.extend(k for k in group if points[k][1] == top)
            best_before = top
        i = j
    return out


def ok_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["verdict"] == "ok" and r.get("certified") is not None and r.get("ops") is not None]


def bound_of(row: dict[str, Any]) -> Fraction:
    """The certified bound certified / v^n as an exact fraction."""
    return Fraction(int(row["certified"]), int(row["n_sequences"]))


def brute_force_bounds(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], Fraction]:
    """(model label, weights sha) -> the brute-force bound, for models with an "ok" brute-force row."""
    return {(model_label(r), r["weights_sha256"]): bound_of(r) for r in ok_rows(rows) if r["family"] == "brute-force"}


def brute_force_rows(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(model label, weights sha) -> the model's "ok" brute-force row (its count is the exact true count)."""
    return {(model_label(r), r["weights_sha256"]): r for r in ok_rows(rows) if r["family"] == "brute-force"}


def with_baseline(rows: Sequence[dict[str, Any]], baseline: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` plus the "ok" brute-force rows of ``baseline`` (another results folder) for the models of
    ``rows`` (same weights hash) that have no brute-force row of their own: a sweep of new strategies is
    then normalised by, and compared with, brute-force results measured once (e.g. the paper sweep)."""
    have = {r["weights_sha256"] for r in ok_rows(rows) if r["family"] == "brute-force"}
    wanted = {r["weights_sha256"] for r in rows} - have
    extra = [r for r in brute_force_rows(baseline).values() if r["weights_sha256"] in wanted]
    return list(rows) + extra


def normalised(row: dict[str, Any], bf: dict[tuple[str, str], Fraction]) -> Fraction | None:
    """bound / brute-force bound of the same model, or None when that is unknown (or zero)."""
    ref = bf.get((model_label(row), row["weights_sha256"]))
    return None if not ref else bound_of(row) / ref


def describe(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, mean, sample std (0 for one value), min, max, median."""
    if not values:
        return {"n": 0, "mean": None, "std": None, "min": None, "max": None, "median": None}
    return {
        "n": len(values),
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
        "median": statistics.median(values),
    }


def group_stats(rows: Sequence[dict[str, Any]], bf: dict[tuple[str, str], Fraction],
                bf_rows: dict[tuple[str, str], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Bound statistics (raw and normalised), median op count and median check time of ``rows``;
    with the models' brute-force rows, how many rows certify the exact true count and their op counts
    as fractions of brute force's."""
    norm = [normalised(r, bf) for r in rows]
    refs = [(r, (bf_rows or {}).get((model_label(r), r["weights_sha256"]))) for r in rows]
    refs = [(r, b) for r, b in refs if b is not None]
    return {
        "bound": describe([float(bound_of(r)) for r in rows]),
        "normalised": describe([float(x) for x in norm if x is not None]),
        "exact": {"n": len(refs), "reached": sum(int(r["certified"]) == int(b["certified"]) for r, b in refs)},
        "ops_over_brute_force": describe([int(r["ops"]) / int(b["ops"]) for r, b in refs if int(b["ops"]) > 0]),
        "ops_median": statistics.median([int(r["ops"]) for r in rows]) if rows else None,
        "check_seconds_median": _median([r.get("check_seconds") for r in rows]),
        "search_seconds_median": _median([r.get("search_seconds") for r in rows]),
    }


def _median(xs: Sequence[Any]) -> float | None:
    vals = [float(x) for x in xs if x is not None]
    return statistics.median(vals) if vals else None


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The whole summary as plain JSON-able data (see docs/sweep.md for the fields)."""
    good = ok_rows(rows)
    bf = brute_force_bounds(rows)
    bfr = brute_force_rows(rows)
    verdicts: dict[str, int] = defaultdict(int)
    for r in rows:
        verdicts[r["verdict"]] += 1
    by_family: dict[str, list] = defaultdict(list)
    by_strategy: dict[str, list] = defaultdict(list)
    by_knob: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in good:
        by_family[r["family"]].append(r)
        by_strategy[r["strategy"]].append(r)
        if r["family"] == "subcubic":
            for k, v in sorted(r["knobs"].items()):
                by_knob[k][v].append(r)

    def key(r: dict[str, Any]) -> Fraction:
        n = normalised(r, bf)
        return n if n is not None else bound_of(r)

    def frontier_of(rs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        idx = pareto_frontier([(int(r["ops"]), key(r)) for r in rs])
        return [_point(rs[i], bf) for i in idx]

    per_model: dict[str, list] = defaultdict(list)
    order: dict[str, tuple[int, int, str]] = {}
    for r in good:
        per_model[model_label(r)].append(r)
        order[model_label(r)] = model_order(r)

    strategy_stats = {s: group_stats(rs, bf, bfr) for s, rs in by_strategy.items()}
    strat_names = sorted(strategy_stats)
    strat_points = [(strategy_stats[s]["ops_median"], _mean_key(by_strategy[s], key)) for s in strat_names]
    strategy_frontier = [{"strategy": strat_names[i], "ops_median": strat_points[i][0],
                          "mean_bound": float(strat_points[i][1])} for i in pareto_frontier(strat_points)]
    return {
        "rows": len(rows),
        "models": len({model_label(r) for r in rows}),
        "strategies": len({r["strategy"] for r in rows}),
        "verdicts": dict(sorted(verdicts.items())),
        "not_ok": [{"seed": r["seed"], "model": r.get("model"), "strategy": r["strategy"], "verdict": r["verdict"],
                    "message": r.get("message", "")} for r in rows if r["verdict"] != "ok"],
        "normalised_by_brute_force": bool(bf),
        "by_family": {f: group_stats(rs, bf, bfr) for f, rs in sorted(by_family.items())},
        "by_subcubic_knob": {k: {v: group_stats(rs, bf) for v, rs in sorted(vals.items())}
                             for k, vals in sorted(by_knob.items())},
        "by_strategy": strategy_stats,
        "frontier_per_model": {s: frontier_of(rs) for s, rs in sorted(per_model.items(), key=lambda kv: order[kv[0]])},
        "frontier_overall": frontier_of(good),
        "frontier_strategies": strategy_frontier,
    }


def _mean_key(rows: list[dict[str, Any]], key) -> Fraction:
    return sum((key(r) for r in rows), Fraction(0)) / len(rows)


def _point(row: dict[str, Any], bf: dict[tuple[str, str], Fraction]) -> dict[str, Any]:
    n = normalised(row, bf)
    return {"seed": row["seed"], "model": row.get("model"), "strategy": row["strategy"], "ops": int(row["ops"]),
            "bound": row["bound"], "bound_decimal": float(bound_of(row)),
            "normalised": None if n is None else float(n)}


def report_rows(results_dir: Path, weights: set[str] | None = None, baseline: Path | None = None) -> list[dict[str, Any]]:
    """The folder's rows (only the models with these weight hashes, if given), with the brute-force rows
    of the ``baseline`` results folder for its models (with_baseline)."""
    rows = rows_of_models(load_rows(results_dir), weights, results_dir)
    return rows if baseline is None else with_baseline(rows, load_rows(baseline))


def summary_json(results_dir: Path, weights: set[str] | None = None, baseline: Path | None = None) -> dict[str, Any]:
    """summarise() of report_rows(results_dir, weights, baseline);
    with several model shapes, {"by_configuration": {config name: summary}}."""
    rows = report_rows(results_dir, weights, baseline)
    groups = split_by_config(rows)
    if len(groups) > 1:
        return {"by_configuration": {name: summarise(rs) for name, rs in groups.items()}}
    return summarise(rows)


# --------------------------------------------------------------------------------------------
# Markdown


def _label(point: dict[str, Any]) -> str:
    """A table cell naming a model: the seed, or the model file (its name, escaped for markdown)."""
    return str(point["seed"]) if not point.get("model") else f"`{str(point['model']).replace('|', '/')}`"


def _f(x: float | None, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _ops(x: float | int | None) -> str:
    return "-" if x is None else f"{float(x):.3g}"


def _stat_cells(st: dict[str, Any], normalised_col: bool) -> list[str]:
    b = st["bound"]
    cells = [str(b["n"]), f"{_f(b['mean'])} +- {_f(b['std'])}", f"{_f(b['min'])} .. {_f(b['max'])}"]
    if normalised_col:
        nm = st["normalised"]
        cells.append("-" if nm["n"] == 0 else f"{_f(nm['mean'])} +- {_f(nm['std'])}")
    cells += [_ops(st["ops_median"]), _f(st["check_seconds_median"], 3)]
    if normalised_col:
        ex, fr = st["exact"], st["ops_over_brute_force"]
        cells += [f"{ex['reached']}/{ex['n']}" if ex["n"] else "-",
                  "-" if fr["n"] == 0 else f"{100 * fr['median']:.2f}% ({100 * fr['min']:.2f} .. {100 * fr['max']:.2f})"]
    return cells


def to_markdown(summary: dict[str, Any]) -> str:
    """The report as markdown tables."""
    norm = summary["normalised_by_brute_force"]
    head = ["n", "bound mean +- std", "range"] + (["normalised mean +- std"] if norm else []) + \
        ["median ops", "median check s"] + (["= brute force", "ops / brute force: median (range)"] if norm else [])

    def table(title: str, first: str, groups: dict[str, Any]) -> list[str]:
        lines = [f"## {title}", "", "| " + " | ".join([first] + head) + " |", "|" + "---|" * (len(head) + 1)]
        for name, st in groups.items():
            lines.append("| " + " | ".join([f"`{name}`"] + _stat_cells(st, norm)) + " |")
        return lines + [""]

    out = ["# Sweep report", "",
           f"{summary['rows']} rows: {summary['models']} models x {summary['strategies']} strategies. Verdicts: "
           + ", ".join(f"{k} {v}" for k, v in summary["verdicts"].items()) + ".",
           "Statistics use only rows whose claim the independent checker accepted (verdict ok). "
           "Bound = certified sequences / v^n" + ("; normalised = bound / brute-force bound of the same model." if norm
                                                   else "; no brute-force rows, so nothing is normalised."), ""]
    out += table("Per strategy family", "family", summary["by_family"])
    for knob, vals in summary["by_subcubic_knob"].items():
        out += table(f"Subcubic, grouped by {knob}", knob, vals)
    out += table("Per strategy", "strategy", dict(sorted(summary["by_strategy"].items())))
    label = "normalised bound" if norm else "bound"
    out += ["## Pareto frontier over all models", "",
            f"Points (model, strategy) not dominated in (op count, {label}); a model is a seed or a model file.", "",
            "| model | strategy | ops | bound | normalised |", "|---|---|---|---|---|"]
    for p in summary["frontier_overall"]:
        out.append(f"| {_label(p)} | `{p['strategy']}` | {_ops(p['ops'])} | {_f(p['bound_decimal'], 6)} | "
                   f"{_f(p['normalised'], 6)} |")
    out += ["", "## Pareto frontier of strategies (median ops, mean " + label + " over models)", "",
            "| strategy | median ops | mean bound |", "|---|---|---|"]
    for p in summary["frontier_strategies"]:
        out.append(f"| `{p['strategy']}` | {_ops(p['ops_median'])} | {_f(p['mean_bound'], 6)} |")
    out += ["", "## Pareto frontier per model", "", "| model | frontier (strategy: ops, bound) |", "|---|---|"]
    for seed, pts in summary["frontier_per_model"].items():
        cells = "; ".join(f"`{p['strategy']}`: {_ops(p['ops'])}, {_f(p['bound_decimal'], 6)}" for p in pts)
        out.append(f"| {seed} | {cells} |")
    if summary["not_ok"]:
        out += ["", "## Rows that are not ok", "", "| model | strategy | verdict | message |", "|---|---|---|---|"]
        for r in summary["not_ok"]:
            out.append(f"| {_label(r)} | `{r['strategy']}` | {r['verdict']} | {r['message'].replace('|', '/')} |")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Plots

def plot_frontier(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Bound (normalised by the model's brute-force bound when known) vs checker operations, one
    point per strategy (median and range over models), coloured by direct-path handling, with the
    paper's FLOP counts in a note (extract/plots.py, plot_bound_vs_cost)."""
    from extract.plots import plot_bound_vs_cost

    return plot_bound_vs_cost(rows, path)


def plot_families(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """The bound of every strategy, median and range over models: for subcubic one panel per
    direct-path mode and one row per attention-error mode, brute force and cubic as reference
    lines (extract/plots.py, plot_per_variant)."""
    from extract.plots import plot_per_variant

    return plot_per_variant(rows, path)


# --------------------------------------------------------------------------------------------
# Everything


def split_by_config(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped by model shape, keyed by extract.config.config_name ("k5", "n3-v6-d8-h8", ...),
    in first-seen order: statistics of different (n_ctx, d_vocab) are never pooled."""
    from extract.config import ModelConfig, config_name

    out: dict[str, list[dict[str, Any]]] = {}
    keys = ("d_vocab", "n_ctx", "d_model", "d_head")
    for r in rows:
        if all(isinstance(r.get(k), int) and r[k] > 0 for k in keys):
            name = config_name(ModelConfig(*(r[k] for k in keys)))
        else:
            name = "unspecified shape"
        out.setdefault(name, []).append(r)
    return out


def write_report(results_dir: Path, out_dir: Path, plots: bool = True, weights: set[str] | None = None,
                 baseline: Path | None = None) -> dict[str, str]:
    """Write report.md, summary.json and (unless plots=False) the two PNGs into ``out_dir``
    (``weights``: only the rows of models with these weight hashes; ``baseline``: a results folder whose
    brute-force rows complete the folder's, see with_baseline).

    A results folder holding rows of several model shapes gets one report per shape in
    ``out_dir/<config name>/`` and a top-level report.md that concatenates them."""
    rows = report_rows(results_dir, weights, baseline)
    groups = split_by_config(rows)
    if len(groups) > 1:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        parts = {name: _write_one(rs, out_dir / name, plots) for name, rs in groups.items()}
        text = "".join(f"# Configuration {name}\n\n" + Path(p["markdown"]).read_text() + "\n" for name, p in parts.items())
        (out_dir / REPORT_MD).write_text(text)
        return {"markdown": str(out_dir / REPORT_MD), **{f"{name}/markdown": p["markdown"] for name, p in parts.items()}}
    return _write_one(rows, out_dir, plots)


def _write_one(rows: Sequence[dict[str, Any]], out_dir: Path, plots: bool) -> dict[str, str]:
    """report.md, summary.json and the PNGs of rows of one model shape."""
    summary = summarise(rows)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": str(out_dir / REPORT_MD), "json": str(out_dir / SUMMARY_JSON)}
    (out_dir / REPORT_MD).write_text(to_markdown(summary))
    (out_dir / SUMMARY_JSON).write_text(json.dumps(summary, indent=1, sort_keys=True, default=_json_default) + "\n")
    if plots and ok_rows(rows):
        from extract.plots import PlotsUnavailable

        try:
            paths["frontier_plot"] = str(plot_frontier(rows, out_dir / PLOT_FRONTIER))
            paths["family_plot"] = str(plot_families(rows, out_dir / PLOT_FAMILIES))
        except PlotsUnavailable as e:  # tables are written; say why the plots are not, in one line
            import sys

            print(f"compact-proofs: {e}", file=sys.stderr)
            paths["plots_skipped"] = str(e)
    return paths


def _json_default(x: Any) -> Any:
    if isinstance(x, Fraction):
        return f"{x.numerator}/{x.denominator}"
    if isinstance(x, float) and not math.isfinite(x):
        return None
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")
