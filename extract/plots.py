"""Plots of certified bounds against proof length, readable against the paper's figures.

Pure functions: results rows in (the sweep's rows, or ``compact_proofs.Result.as_row()``), a
matplotlib figure or PNG file out. Only rows whose verdict is "ok" are drawn. A row's plotted
bound is certified / v^n, divided by the brute-force bound of the same model (same weights
SHA-256) when that row exists, as the paper normalises; every strategy is one point per
strategy: the median over models, with the range (min to max) over models as error bars.

- ``plot_bound_vs_cost``: normalised bound against checker operations (log x), coloured by
  the subcubic direct-path (EUPU) handling, the knob that separates the variants most; marker
  shape by attention handling; brute force, cubic and the default subcubic variant labelled.
  The paper's costs are FLOPs of its reference implementation, a different unit from our exact
  checker operations; a note in the figure gives both per proof class.
- ``plot_per_variant``: one panel per direct-path mode, one row per attention-error mode, both
  attention modes; median and range over models; brute force and cubic as reference lines.

matplotlib is optional (the ``plot`` extra): without it these raise PlotsUnavailable, one line.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from extract.errors import UserError
from extract.strategies import (
    ATTENTION_ERROR_MODES,
    ATTENTION_MODES,
    DEFAULT_SUBCUBIC_VARIANT,
    DIRECT_PATH_DESCRIPTIONS,
    DIRECT_PATH_MODES,
    paper_knob_value,
)

# The paper's cost of each proof class, in FLOPs of its reference implementation (Gross et al.
# 2024, appendix A.3; brute force and cubic from the reference notebook's instruction counts,
# subcubic the range over its 100 variants).
PAPER_FLOPS: dict[str, str] = {"brute force": "8.8e11", "cubic": "3.5e7", "subcubic": "1.9e6-4.7e6"}

DIRECT_PATH_COLOURS: dict[str, str] = {
    "mean_query+max_diff": "tab:blue",
    "svd_query+max_diff": "tab:olive",
    "max_diff": "tab:orange",
    "max_diff_exact": "tab:green",
    "global_max_diff_exact": "tab:purple",
}
ATTENTION_MARKERS: dict[str, str] = {"mean+diff": "o", "per-query": "v"}
FAMILY_STYLE: dict[str, tuple[str, str, str]] = {  # colour, marker, label
    "brute-force": ("black", "*", "brute force"),
    "cubic": ("tab:red", "D", "cubic"),
    "cubic-sharp": ("tab:brown", "P", "cubic-sharp (not in the paper)"),
    "refine": ("tab:cyan", "s", "refine, one point per budget (not in the paper)"),
}


class PlotsUnavailable(UserError):
    """matplotlib is missing: one line naming the ``plot`` extra (tables are written without it)."""


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend; PlotsUnavailable if not installed."""
    try:
        import matplotlib
    except ImportError:
        raise PlotsUnavailable(
            "plots need matplotlib, which is not installed: pip install 'compact-proofs[plot]' "
            "(tables and JSON are written without it)"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# --------------------------------------------------------------------------------------------
# Aggregation (pure)


def rows_from_csv(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a sweep's results.csv, with knobs as a dict and counts as ints (None if empty)."""
    import csv

    out = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            row: dict[str, Any] = dict(r)
            row["knobs"] = json.loads(r["knobs"]) if r.get("knobs") else {}
            for k in ("certified", "claimed", "ops", "n_sequences"):
                row[k] = int(r[k]) if r.get(k) not in (None, "") else None
            out.append(row)
    return out


def _ok(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("verdict") == "ok" and r.get("certified") is not None and r.get("ops") is not None]


def _model_key(r: dict[str, Any]) -> tuple[str, str]:
    return (str(r.get("seed")), str(r.get("weights_sha256")))


def plotted_bounds(rows: Sequence[dict[str, Any]]) -> tuple[list[tuple[dict[str, Any], float]], bool]:
    """(row, y) for every ok row, and whether y is normalised: y = bound / brute-force bound of
    the same model when every model has an ok, non-zero brute-force row, else the raw bound."""
    good = _ok(rows)
    bf = {_model_key(r): Fraction(int(r["certified"]), int(r["n_sequences"]))
          for r in good if r.get("family") == "brute-force"}
    normalise = bool(good) and all(bf.get(_model_key(r)) for r in good)
    out = []
    for r in good:
        b = Fraction(int(r["certified"]), int(r["n_sequences"]))
        out.append((r, float(b / bf[_model_key(r)]) if normalise else float(b)))
    return out, normalise


@dataclass(frozen=True)
class StrategyPoint:
    """One strategy aggregated over models: median and range of ops and of the plotted bound."""

    strategy: str
    family: str
    knobs: dict[str, str]
    models: int
    ops_median: float
    ops_min: int
    ops_max: int
    y_median: float
    y_min: float
    y_max: float
    y_q1: float
    y_q3: float


def aggregate(rows: Sequence[dict[str, Any]]) -> tuple[list[StrategyPoint], bool]:
    """One StrategyPoint per strategy (ok rows only), and whether the bounds are normalised."""
    ys, normalised = plotted_bounds(rows)
    groups: dict[str, list[tuple[dict[str, Any], float]]] = defaultdict(list)
    for r, y in ys:
        groups[r["strategy"]].append((r, y))
    points = []
    for strategy, items in groups.items():
        ops = [int(r["ops"]) for r, _ in items]
        vals = sorted(y for _, y in items)
        q1, q3 = (statistics.quantiles(vals, n=4, method="inclusive")[::2] if len(vals) > 1 else (vals[0], vals[0]))
        r0 = items[0][0]
        points.append(StrategyPoint(strategy, r0["family"], dict(r0.get("knobs") or {}), len(items),
                                    float(statistics.median(ops)), min(ops), max(ops),
                                    float(statistics.median(vals)), vals[0], vals[-1], float(q1), float(q3)))
    return points, normalised


def _variant(knobs: dict[str, str]) -> str:
    """The subcubic variant "DP/ATTN/ERR" of a knob dict, whatever the dict's key order."""
    return "/".join(str(knobs.get(k, "")) for k in ("direct_path", "attention", "attention_error"))


def _fmt(x: float) -> str:
    return f"{x:.1e}".replace("e+0", "e").replace("e+", "e")


def cost_note(points: Sequence[StrategyPoint]) -> str:
    """The text that relates our checker operations to the paper's FLOPs, per proof class."""
    by_family: dict[str, list[float]] = defaultdict(list)
    for p in points:
        by_family[p.family].append(p.ops_median)
    lines = ["Cost units differ: paper = FLOPs of its float reference code;",
             "here = exact operations of the independent checker (median over models)."]
    for fam, paper_name in (("brute-force", "brute force"), ("cubic", "cubic"), ("subcubic", "subcubic")):
        ours = by_family.get(fam)
        if not ours:
            continue
        here = _fmt(min(ours)) if len(ours) == 1 else f"{_fmt(min(ours))}-{_fmt(max(ours))}"
        lines.append(f"{paper_name}: paper {PAPER_FLOPS[paper_name]} FLOPs, here {here} ops")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Figures


def _style(p: StrategyPoint) -> tuple[str, str, bool]:
    """(colour, marker, filled) of a strategy point."""
    if p.family in FAMILY_STYLE:
        colour, marker, _ = FAMILY_STYLE[p.family]
        return colour, marker, True
    if p.family == "subcubic":
        return (DIRECT_PATH_COLOURS.get(p.knobs.get("direct_path", ""), "tab:gray"),
                ATTENTION_MARKERS.get(p.knobs.get("attention", ""), "o"), p.knobs.get("attention") != "per-query")
    return "tab:gray", "s", True


def bound_vs_cost_figure(rows: Sequence[dict[str, Any]], title: str | None = None):
    """The bound-vs-cost figure (see the module docstring); returns the matplotlib Figure."""
    plt = pyplot()
    from matplotlib.lines import Line2D

    points, normalised = aggregate(rows)
    fig, ax = plt.subplots(figsize=(13, 6.5), dpi=110)
    n_models = max((p.models for p in points), default=0)
    for p in sorted(points, key=lambda p: (p.family in FAMILY_STYLE, p.strategy)):
        colour, marker, filled = _style(p)
        big = p.family in FAMILY_STYLE and p.family != "refine"  # refine: many points, drawn small with their per-model curves
        ax.errorbar(p.ops_median, p.y_median,
                    yerr=[[p.y_median - p.y_min], [p.y_max - p.y_median]],
                    xerr=[[p.ops_median - p.ops_min], [p.ops_max - p.ops_median]],
                    fmt="none", ecolor=colour, elinewidth=0.7, alpha=0.4, capsize=0, zorder=2)
        ax.plot([p.ops_median, p.ops_median], [p.y_q1, p.y_q3], color=colour, lw=2.2, alpha=0.55, zorder=2)
        ax.scatter([p.ops_median], [p.y_median], s=160 if big else 34, marker=marker,
                   facecolors=colour if filled else "white", edgecolors=colour, linewidths=1.2, zorder=4 if big else 3)
        default = p.family == "subcubic" and _variant(p.knobs) == DEFAULT_SUBCUBIC_VARIANT
        if big or default:
            label = FAMILY_STYLE[p.family][2] if big else "default subcubic"
            if default:
                ax.scatter([p.ops_median], [p.y_median], s=170, facecolors="none", edgecolors="black", linewidths=1.2, zorder=4)
            right = p.family == "brute-force"  # the costliest point: label it on its left
            ax.annotate(f"{label}\n{p.y_median:.3f}", (p.ops_median, p.y_median), textcoords="offset points",
                        xytext=((-10, -22) if right else (8, -18)) if big else (40, -20), fontsize=8, zorder=5,
                        ha="right" if right else "left",
                        arrowprops=None if big else {"arrowstyle": "-", "color": "0.4", "lw": 0.7})
    best = max((p for p in points if p.family == "subcubic"), key=lambda p: p.y_median, default=None)
    if best is not None:
        ax.annotate(f"best subcubic {best.y_median:.3f}\n({best.strategy.partition(':')[2]})", (best.ops_median, best.y_median),
                    textcoords="offset points", xytext=(30, -8), va="top", fontsize=8, zorder=5,
                    arrowprops={"arrowstyle": "-", "color": "0.4", "lw": 0.7})
    _refine_curves(ax, rows)
    _subcubic_inset(ax, [p for p in points if p.family == "subcubic"])
    ax.set_xscale("log")
    ax.margins(x=0.08)
    ax.set_xlabel("checker operations (exact arithmetic operations of the independent checker: proof length)")
    ax.set_ylabel("accuracy bound / brute-force bound of the same model" if normalised else "accuracy bound (certified / v^n)")
    ax.set_ylim(max(-0.03, min((p.y_min for p in points), default=0.0) - 0.03), 1.05)  # zoom in when every bound is high
    ax.grid(True, which="both", alpha=0.25)
    ax.set_title(title or f"Bound vs proof length: median over {n_models} model{'s' if n_models != 1 else ''} "
                          "(thick bar: middle half, thin bar: range over models)", fontsize=10)
    present_dp = [m for m in DIRECT_PATH_MODES if any(p.knobs.get("direct_path") == m for p in points)]
    handles = [Line2D([], [], marker=FAMILY_STYLE[f][1], color=FAMILY_STYLE[f][0], ls="", ms=9, label=FAMILY_STYLE[f][2])
               for f in FAMILY_STYLE if any(p.family == f for p in points)]
    handles += [Line2D([], [], marker="o", color=DIRECT_PATH_COLOURS[m], ls="", ms=6,
                       label=f"subcubic, EUPU {m}: {DIRECT_PATH_DESCRIPTIONS.get(m, '')}") for m in present_dp]
    present_attn = [a for a in ATTENTION_MODES if any(p.knobs.get("attention") == a for p in points)]
    handles += [Line2D([], [], marker=ATTENTION_MARKERS[a], color="gray", ls="", ms=6,
                       markerfacecolor="gray" if a != "per-query" else "white",
                       label=f"attention {paper_knob_value('attention', a)}") for a in present_attn]
    others = sorted({p.family for p in points if p.family not in FAMILY_STYLE and p.family != "subcubic"})
    handles += [Line2D([], [], marker="s", color="tab:gray", ls="", ms=6, label=f"{f} (not in the paper)") for f in others]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, framealpha=0.9,
              title="colour: direct path (EUPU) handling\nshape: attention handling", title_fontsize=7)
    ax.text(1.01, 0.0, cost_note(points), transform=ax.transAxes, ha="left", va="bottom", fontsize=7,
            bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9, "edgecolor": "0.7"})
    fig.tight_layout()
    return fig


def _refine_curves(ax: Any, rows: Sequence[dict[str, Any]]) -> None:
    """One thin line per model through its refine points (budget order = ops order): each model's
    curve of (checker operations, bound) from cubic cost up to its exact count."""
    ys, _ = plotted_bounds(rows)
    curves: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    for r, y in ys:
        if r.get("family") == "refine":
            curves[_model_key(r)].append((int(r["ops"]), y))
    colour = FAMILY_STYLE["refine"][0]
    for pts in curves.values():
        pts.sort()
        ax.plot([x for x, _ in pts], [y for _, y in pts], color=colour, lw=0.6, alpha=0.35, zorder=1)


def _subcubic_inset(ax: Any, points: Sequence[StrategyPoint]) -> None:
    """A zoom on the subcubic variants (linear x), drawn in the empty middle of the main axes."""
    if len(points) < 10:  # a handful of points is readable without a zoom
        return
    inset = ax.inset_axes((0.30, 0.07, 0.40, 0.55))
    for p in points:
        colour, marker, filled = _style(p)
        inset.plot([p.ops_median, p.ops_median], [p.y_q1, p.y_q3], color=colour, lw=1.6, alpha=0.5)
        inset.scatter([p.ops_median], [p.y_median], s=22, marker=marker, facecolors=colour if filled else "white",
                      edgecolors=colour, linewidths=1.0, zorder=3)
        if _variant(p.knobs) == DEFAULT_SUBCUBIC_VARIANT:
            inset.scatter([p.ops_median], [p.y_median], s=90, facecolors="none", edgecolors="black", zorder=4)
    inset.set_title("subcubic variants, zoomed (median, middle half)", fontsize=7)
    inset.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
    inset.tick_params(labelsize=6)
    inset.xaxis.get_offset_text().set_fontsize(6)
    inset.set_xlabel("checker operations (linear)", fontsize=6)
    inset.grid(True, alpha=0.25)


def per_variant_figure(rows: Sequence[dict[str, Any]], title: str | None = None):
    """Every subcubic variant's bound (median dot, range bar over models): one panel per
    direct-path mode, one row per attention-error mode, both attention modes; brute force and
    cubic medians as vertical reference lines. Returns the matplotlib Figure."""
    plt = pyplot()
    from matplotlib.lines import Line2D

    points, normalised = aggregate(rows)
    sub = {(p.knobs.get("direct_path"), p.knobs.get("attention"), p.knobs.get("attention_error")): p
           for p in points if p.family == "subcubic"}
    if not sub:
        return _per_strategy_figure(points, normalised, title)
    refs = {p.family: p for p in points if p.family in FAMILY_STYLE}
    dps = [m for m in DIRECT_PATH_MODES if any(k[0] == m for k in sub)] or list(DIRECT_PATH_MODES)
    errs = list(ATTENTION_ERROR_MODES)
    fig, axes = plt.subplots(1, len(dps), figsize=(3.3 * len(dps) + 2.6, 5.8), dpi=110, sharey=True, squeeze=False)
    n_models = max((p.models for p in points), default=0)
    for ax, dp in zip(axes[0], dps):
        colour = DIRECT_PATH_COLOURS.get(dp, "tab:gray")
        for j, attn in enumerate(ATTENTION_MODES):
            offset = -0.18 if j == 0 else 0.18
            for i, err in enumerate(errs):
                p = sub.get((dp, attn, err))
                if p is None:
                    continue
                y = i + offset
                ax.plot([p.y_min, p.y_max], [y, y], color=colour, lw=1.0, alpha=0.6)
                ax.scatter([p.y_median], [y], marker=ATTENTION_MARKERS.get(attn, "o"), s=30, zorder=3,
                           facecolors=colour if attn != "per-query" else "white", edgecolors=colour)
                if _variant({"direct_path": dp, "attention": attn, "attention_error": err}) == DEFAULT_SUBCUBIC_VARIANT:
                    ax.scatter([p.y_median], [y], s=110, facecolors="none", edgecolors="black", zorder=4)
        for fam, ls in (("brute-force", "-"), ("cubic", "--")):
            if fam in refs:
                ax.axvline(refs[fam].y_median, color=FAMILY_STYLE[fam][0], ls=ls, lw=1.0, alpha=0.8)
        ax.set_title(f"EUPU {dp}\n{DIRECT_PATH_DESCRIPTIONS.get(dp, '')}", fontsize=8, color=colour)
        ax.set_xlim(-0.03, 1.05)
        ax.grid(True, axis="x", alpha=0.25)
        ax.set_xlabel("bound / brute-force bound" if normalised else "accuracy bound", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].set_yticks(range(len(errs)), errs, fontsize=7)
    axes[0][0].set_ylabel("EQKE error (attention error handling)", fontsize=8)
    axes[0][0].invert_yaxis()
    handles = [Line2D([], [], marker=ATTENTION_MARKERS[a], color="gray", ls="",
                      markerfacecolor="gray" if a != "per-query" else "white",
                      label=f"attention {paper_knob_value('attention', a)}") for a in ATTENTION_MODES]
    handles.append(Line2D([], [], marker="o", markerfacecolor="none", markeredgecolor="black", ls="", ms=9,
                          label="default subcubic variant"))
    for fam, ls in (("brute-force", "-"), ("cubic", "--")):
        if fam in refs:
            handles.append(Line2D([], [], color=FAMILY_STYLE[fam][0], ls=ls, label=f"{FAMILY_STYLE[fam][2]} (median)"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=7, frameon=False)
    fig.suptitle(title or f"Subcubic variants: median (dot) and range (bar) over {n_models} model"
                          f"{'s' if n_models != 1 else ''}", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return fig


def _per_strategy_figure(points: Sequence[StrategyPoint], normalised: bool, title: str | None):
    """Without subcubic rows: one row per strategy, median dot and range bar over models."""
    plt = pyplot()
    pts = sorted(points, key=lambda p: p.y_median)
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.35 * max(len(pts), 1)), dpi=110)
    for i, p in enumerate(pts):
        colour, marker, filled = _style(p)
        ax.plot([p.y_min, p.y_max], [i, i], color=colour, lw=1.0, alpha=0.6)
        ax.scatter([p.y_median], [i], marker=marker, s=50, facecolors=colour if filled else "white", edgecolors=colour, zorder=3)
    ax.set_yticks(range(len(pts)), [p.strategy for p in pts], fontsize=8)
    ax.set_xlim(-0.03, 1.05)
    ax.set_xlabel("bound / brute-force bound" if normalised else "accuracy bound (certified / v^n)")
    ax.grid(True, axis="x", alpha=0.25)
    n_models = max((p.models for p in points), default=0)
    ax.set_title(title or f"Bound per strategy: median (dot) and range (bar) over {n_models} model"
                          f"{'s' if n_models != 1 else ''}", fontsize=10)
    fig.tight_layout()
    return fig


def save(fig: Any, path: str | Path) -> Path:
    """Write ``fig`` as a PNG (folders created) and release it; returns the path."""
    plt = pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_bound_vs_cost(rows: Sequence[dict[str, Any]], path: str | Path, title: str | None = None) -> Path:
    """``bound_vs_cost_figure`` written to ``path`` (PNG)."""
    return save(bound_vs_cost_figure(rows, title), path)


def plot_per_variant(rows: Sequence[dict[str, Any]], path: str | Path, title: str | None = None) -> Path:
    """``per_variant_figure`` written to ``path`` (PNG)."""
    return save(per_variant_figure(rows, title), path)
