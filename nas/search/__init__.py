"""The search: Optuna ask/tell in one driver process, the only writer of the store.

:func:`run_search` runs or resumes an experiment's study (:mod:`nas.search.driver`);
:func:`load_experiment` reads an experiment file checked for a search, Optuna's sampler and
pruner options included. Samplers and pruners by name live in :mod:`nas.search.algorithms`;
taking back the trials of a driver that died, in :mod:`nas.search.recovery`.
"""

from nas.search.algorithms import (
    OptunaSuggest,
    check_algorithms,
    describe_algorithms,
    make_pruner,
    make_sampler,
    sampler_warnings,
)
from nas.search.driver import SearchDriver, run_search
from nas.search.experiment import load_experiment
from nas.search.preview import SearchPreview, preview_search
from nas.search.recovery import recover_stale
from nas.search.reporter import NullReporter, Reporter, SearchSummary
from nas.search.study import counted_trials

__all__ = [
    "NullReporter",
    "OptunaSuggest",
    "Reporter",
    "SearchDriver",
    "SearchPreview",
    "SearchSummary",
    "check_algorithms",
    "counted_trials",
    "describe_algorithms",
    "load_experiment",
    "make_pruner",
    "make_sampler",
    "preview_search",
    "recover_stale",
    "run_search",
    "sampler_warnings",
]
