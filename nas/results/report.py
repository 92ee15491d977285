"""A study as a folder of PNG plots and one HTML page that shows them with the top trials.

:func:`write_report` writes ``index.html`` beside its images: optimisation history, Pareto
fronts (each pair of objectives, and accuracy against parameters), parameter importances
(when enough trials completed) and the learning curves of the top trials. The page links
only to those files by relative paths and carries its style inline, so the folder can be
moved, mailed or opened offline.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nas.metrics import label
from nas.model import Architecture, ArchitectureError, describe
from nas.results import plots
from nas.results.frames import load_curves, load_trials, rank
from nas.results.tables import format_cell
from nas.store import param_importances
from nas.urls import public_url

CURVE_TRIALS = 5  # learning curves of this many top trials; more lines would not read
FIGSIZE = (6.4, 4.2)
DPI = 100
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { margin-bottom: 0.2em; }
.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.9em; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.6em; text-align: right; }
th { background: #f4f4f4; }
td.text { text-align: left; font-family: ui-monospace, monospace; }
.plots { display: flex; flex-wrap: wrap; gap: 1.5em; }
figure { margin: 0; }
figcaption { color: #555; font-size: 0.9em; max-width: 640px; }
"""


@dataclass(frozen=True)
class Plot:
    """One image of the report: its file name, caption and drawing function."""

    file: str
    caption: str
    draw: Callable[[Figure], None]


def write_report(storage: str, study: str, output: Path, *, top: int = 10) -> Path:
    """Write the report of ``study`` into the folder ``output`` (created if needed; files of
    an earlier report are replaced) and return the path of its ``index.html``. ``top``: rows
    of the table. Raises ``KeyError`` for an unknown study (or store), having created nothing."""
    output = Path(output)
    frame = load_trials(storage, study)
    ranked = rank(frame)
    done = ranked[ranked["state"] == "COMPLETE"]
    figures = _plots(storage, study, frame, done) if len(done) else []
    # Only once everything is read: a report that fails to read leaves no folder behind.
    output.mkdir(parents=True, exist_ok=True)
    for plot in figures:
        figure = Figure(figsize=FIGSIZE, layout="constrained")
        plot.draw(figure)
        figure.savefig(output / plot.file, dpi=DPI)
    page = output / "index.html"
    page.write_text(_page(storage, study, frame, ranked.head(top), figures))
    return page


def _plots(storage: str, study: str, frame: pd.DataFrame, done: pd.DataFrame) -> list[Plot]:
    figures = [
        Plot(
            "history.png",
            "Each complete trial's first objective by trial number, and the best so far.",
            lambda fig: plots.plot_history(_axes(fig), frame),
        )
    ]
    for x, y in plots.front_pairs(frame):
        figures.append(
            Plot(
                f"front_{x}_{y}.png",
                f"Trade-off between {label(y)} and {label(x)}; red points are "
                "not beaten on both at once (the Pareto front).",
                lambda fig, x=x, y=y: plots.plot_front(_axes(fig), frame, x, y),
            )
        )
    importances = param_importances(storage, study)
    if importances:
        figures.append(
            Plot(
                "importances.png",
                "How much of the first objective's variation each parameter explains "
                "(parameters every complete trial has).",
                lambda fig: plots.plot_importances(_axes(fig), importances),
            )
        )
    curves = load_curves(storage, study)
    numbers = [int(n) for n in done["number"].head(CURVE_TRIALS)]
    if not curves.empty:
        figures.append(
            Plot(
                "curves.png",
                f"Validation accuracy and loss per epoch of the top {len(numbers)} trials.",
                lambda fig: _curves(fig, curves, numbers),
            )
        )
    return figures


def _axes(figure: Figure) -> Axes:
    return figure.subplots()


def _curves(figure: Figure, curves: pd.DataFrame, numbers: list[int]) -> None:
    figure.set_size_inches(FIGSIZE[0] * 1.8, FIGSIZE[1])
    left, right = figure.subplots(1, 2)
    plots.plot_curves(left, curves, numbers, "val_accuracy")
    plots.plot_curves(right, curves, numbers, "val_loss")


def _page(
    storage: str, study: str, frame: pd.DataFrame, top: pd.DataFrame, figures: list[Plot]
) -> str:
    esc = html.escape
    counts = frame["state"].value_counts() if len(frame) else pd.Series(dtype=int)
    states = ", ".join(f"{int(n)} {state.lower()}" for state, n in counts.items())
    dataset = frame.attrs.get("dataset") or {}
    objectives = ", ".join(f"{d} {label(n)}" for n, d in frame.attrs["objectives"])
    meta = [
        f"Store: {public_url(storage)}",
        f"Data: {dataset.get('name', '?')} (input {tuple(dataset.get('input_shape', ()))}, "
        f"{dataset.get('num_classes', '?')} classes)",
        f"Objectives: {objectives}",
        f"{len(frame)} trials: {states or 'none'}",
    ]
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>Study {esc(study)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>Study {esc(study)}</h1>",
        *(f'<p class="meta">{esc(line)}</p>' for line in meta),
        "<h2>Top trials</h2>",
        '<p class="meta">Ranked by the first objective; <em>best</em>: on the Pareto front '
        "(with one objective, the best trial).</p>",
        _table(top, frame.attrs["objectives"]),
        "<h2>Plots</h2>",
    ]
    if not figures:
        parts.append("<p>No trial has completed yet.</p>")
    parts.append('<div class="plots">')
    for plot in figures:
        parts += [
            "<figure>",
            f'<img src="{esc(plot.file)}" alt="{esc(plot.caption)}" width="{_width(plot)}">',
            f"<figcaption>{esc(plot.caption)}</figcaption>",
            "</figure>",
        ]
    parts += ["</div>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _width(plot: Plot) -> int:
    scale = 1.8 if plot.file == "curves.png" else 1.0
    return int(FIGSIZE[0] * DPI * scale)


def _table(top: pd.DataFrame, objectives: list[list[str]]) -> str:
    columns: list[tuple[str, str]] = [("number", "trial"), ("state", "state"), ("pareto", "best")]
    columns += [(f"objective_{name}", label(name)) for name, _ in objectives]
    columns += [
        (key, label(key))
        for key in ("val_accuracy", "test_accuracy", "n_params", "flops", "train_seconds")
        if key in top and not any(key == name for name, _ in objectives)
    ]
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in columns)
    rows = []
    for _, row in top.iterrows():
        cells = "".join(f"<td>{html.escape(format_cell(row.get(key)))}</td>" for key, _ in columns)
        arch = row.get("architecture")
        try:
            summary = describe(Architecture.from_json(arch)) if isinstance(arch, str) else ""
        except ArchitectureError as err:
            raise err.in_trial(top.attrs.get("study", "?"), int(row["number"])) from None
        reason = row.get("fail_reason")
        if isinstance(reason, str):
            summary = f"{summary} ({reason})".strip()
        rows.append(f'<tr>{cells}<td class="text">{html.escape(summary)}</td></tr>')
    return f"<table>\n<tr>{head}<th>architecture</th></tr>\n" + "\n".join(rows) + "\n</table>"
