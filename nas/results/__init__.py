"""What a finished search gives back: trial frames for notebooks (:func:`load_trials`,
:func:`load_curves`), plots on caller-owned axes (:mod:`nas.results.plots`), the HTML report
(:func:`write_report`), and a trial exported as standalone Flax code plus weights
(:func:`export_trial`). Reads the store; never imports the search or the trainer."""

from nas.results.codegen import module_source
from nas.results.export import Exported, ExportError, choose_trial, export_trial
from nas.results.frames import load_curves, load_trials, rank, write_table
from nas.results.pareto import knee_index, pareto_mask
from nas.results.report import write_report
from nas.results.tables import Column, TrialsTable, format_cell, trials_table
from nas.store import param_importances

__all__ = [
    "Column",
    "ExportError",
    "Exported",
    "TrialsTable",
    "choose_trial",
    "export_trial",
    "format_cell",
    "knee_index",
    "load_curves",
    "load_trials",
    "module_source",
    "param_importances",
    "pareto_mask",
    "rank",
    "trials_table",
    "write_report",
    "write_table",
]
