"""Plots of a study, each drawn on a matplotlib ``Axes`` the caller owns.

The functions take the frames of :mod:`nas.results.frames` (``load_trials``, ``load_curves``) and
never touch pyplot's global state, so a notebook can place them in its own figures and a
report can render them without a display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations, pairwise
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nas.metrics import METRIC_DIRECTIONS, label
from nas.results.pareto import pareto_mask

if TYPE_CHECKING:  # matplotlib loads only when a plot is drawn
    from matplotlib.axes import Axes

# Metrics spanning orders of magnitude read better on a log axis.
LOG_SCALE = ("n_params", "flops")
FRONT_COLOR = "tab:red"
OTHER_COLOR = "tab:gray"


def complete(frame: pd.DataFrame) -> pd.DataFrame:
    """The complete trials of a trials frame."""
    return frame[frame["state"] == "COMPLETE"] if len(frame) else frame


def front_pairs(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """``(x, y)`` metric pairs worth a Pareto plot: every pair of the study's objectives
    (the metric to minimise on x), then validation accuracy against parameters if no pair
    covers it. Only metrics with a column in ``frame`` are used."""
    directions = {name: d for name, d in frame.attrs.get("objectives", []) if name in frame}
    pairs = []
    for a, b in combinations(directions, 2):
        swap = directions[b] == "minimize" and directions[a] == "maximize"
        pairs.append((b, a) if swap else (a, b))
    wanted = ("n_params", "val_accuracy")
    if wanted not in pairs and wanted[::-1] not in pairs and set(wanted) <= set(frame.columns):
        pairs.append(wanted)
    return pairs


def plot_front(
    ax: Axes, frame: pd.DataFrame, x: str, y: str, directions: Sequence[str] | None = None
) -> pd.DataFrame:
    """Complete trials as points in ``(x, y)``, those on the 2-D Pareto front of the two
    metrics in red, labelled with their numbers and joined by the front's staircase
    (:func:`front_steps`: horizontal and vertical segments bounding what the front beats,
    reaching out to the other trials' range). ``directions`` default to the study's
    objectives, then :data:`METRIC_DIRECTIONS`. Returns the front's rows, ordered along
    ``x``."""
    if directions is None:
        known = {**METRIC_DIRECTIONS, **dict(frame.attrs.get("objectives", []))}
        directions = [known[x], known[y]]
    done = complete(frame).dropna(subset=[x, y])
    values = done[[x, y]].to_numpy(np.float64)
    on_front = pareto_mask(values, directions) if len(done) else np.zeros(0, bool)
    front = done[on_front].sort_values([x, y])
    rest = done[~on_front]
    ax.scatter(rest[x], rest[y], s=18, color=OTHER_COLOR, alpha=0.6, label="trials")
    ax.scatter(front[x], front[y], s=30, color=FRONT_COLOR, label="Pareto front", zorder=3)
    if len(front):
        steps = front_steps(front[[x, y]].to_numpy(np.float64), values, directions)
        ax.plot(steps[:, 0], steps[:, 1], color=FRONT_COLOR, alpha=0.5)
    for _, row in front.iterrows():
        ax.annotate(
            f"#{int(row['number'])}",
            (row[x], row[y]),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
        )
    _scale(ax, x, "x")
    _scale(ax, y, "y")
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    ax.set_title(f"{label(y)} against {label(x)}")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return front


def front_steps(front: np.ndarray, points: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """The vertices ``(x, y)`` of the staircase through a 2-D Pareto ``front`` (its rows):
    the edge of the region the front beats, every segment horizontal or vertical, from each
    front point to the next. At both ends it reaches out to the worst value ``points`` (all
    trials, the front's included) have on the other axis, so it encloses every trial the
    front beats. ``directions`` are the two axes' (``minimize`` or ``maximize``)."""
    signs = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    # With both axes minimised, the front sorted by x has y falling: step right, then down.
    low = np.asarray(front, dtype=np.float64) * signs
    low = low[np.lexsort((low[:, 1], low[:, 0]))]
    worst = np.vstack([np.asarray(points, dtype=np.float64) * signs, low]).max(axis=0)
    vertices = [(low[0, 0], worst[1])]
    for (xa, ya), (xb, _) in pairwise(low):
        vertices += [(xa, ya), (xb, ya)]
    vertices += [(low[-1, 0], low[-1, 1]), (worst[0], low[-1, 1])]
    return np.array(vertices) * signs


def plot_history(ax: Axes, frame: pd.DataFrame, objective: int = 0) -> None:
    """The ``objective``-th objective of each complete trial against its number, with the
    best value so far as a line."""
    name, direction = frame.attrs["objectives"][objective]
    column = f"objective_{name}"
    done = complete(frame).sort_values("number")
    values = done[column].to_numpy(np.float64)
    best = np.fmax.accumulate(values) if direction == "maximize" else np.fmin.accumulate(values)
    ax.scatter(done["number"], values, s=18, color=OTHER_COLOR, label="trial")
    ax.step(done["number"], best, where="post", color=FRONT_COLOR, label="best so far")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel(label(name))
    ax.set_title(f"Optimisation history ({direction} {label(name)})")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)


def plot_importances(ax: Axes, importances: Mapping[str, float]) -> None:
    """Horizontal bars, most important parameter on top."""
    items = sorted(importances.items(), key=lambda item: item[1])
    ax.barh([name for name, _ in items], [value for _, value in items], color="tab:blue")
    ax.set_xlabel("importance (fANOVA, sums to 1)")
    ax.set_title("Parameter importances")
    ax.grid(alpha=0.3, axis="x")


def plot_curves(
    ax: Axes, curves: pd.DataFrame, numbers: Sequence[int], metric: str = "val_accuracy"
) -> None:
    """``metric`` per epoch for the trials ``numbers`` (a line each, in that order)."""
    rows = curves[curves["metric"] == metric]
    for number in numbers:
        trial = rows[rows["number"] == number].sort_values("epoch")
        ax.plot(trial["epoch"], trial["value"], marker="o", markersize=3, label=f"#{number}")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(label(metric))
    ax.set_title(f"Learning curves: {label(metric)}")
    if numbers:
        ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)


def _scale(ax: Axes, metric: str, axis: str) -> None:
    if metric in LOG_SCALE:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
