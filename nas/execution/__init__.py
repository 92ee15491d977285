"""Where trials run: the search driver hands :class:`TrialJob` values to an
:class:`Executor` and gets :class:`TrialOutcome` values back (both plain data).

:class:`LocalExecutor` trains in this process; :class:`TableExecutor` looks candidates up
in a benchmark table instead; the Ray executor (:mod:`nas.execution.ray`,
the only place that imports Ray) is loaded only when asked for.
"""

from nas.execution.base import EpochReport, Executor
from nas.execution.job import TrialJob, TrialOutcome
from nas.execution.local import LocalExecutor
from nas.execution.tables import TABLE_DEVICE, TableExecutor
from nas.execution.trial import device_name, run_trial

__all__ = [
    "TABLE_DEVICE",
    "EpochReport",
    "Executor",
    "LocalExecutor",
    "TableExecutor",
    "TrialJob",
    "TrialOutcome",
    "device_name",
    "run_trial",
]
