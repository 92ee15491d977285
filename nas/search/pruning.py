"""Whether a running trial stops after an epoch: Optuna's single-objective pruners through
``trial.report``/``should_prune``, or MO-ASHA through its own records (Optuna's report is
single-objective)."""

from __future__ import annotations

import optuna

from nas.metrics import EPOCH_METRICS
from nas.search.mo_asha import MOASHAPruner
from nas.store import storage_of, trial_id


class EpochPruning:
    """The pruning of one study's trials, decided once per epoch.

    ``report_metric``: the one objective Optuna's intermediate values hold (None with several
    objectives or one not known per epoch). ``live``: whether values go to the store as each
    epoch ends (only where a pruner reads them; otherwise a trial's are written with its
    result, in one transaction).
    """

    def __init__(self, study: optuna.Study, objectives: list[str]) -> None:
        self.study = study
        single = objectives[0] if len(objectives) == 1 else None
        self.report_metric = single if single in EPOCH_METRICS else None
        pruner = study.pruner
        self.mo_pruner = pruner if isinstance(pruner, MOASHAPruner) else None
        self.live = self.mo_pruner is not None or (
            self.report_metric is not None and not isinstance(pruner, optuna.pruners.NopPruner)
        )

    def should_stop(self, trial: optuna.Trial, epoch: int, metrics: dict[str, float]) -> bool:
        """Record ``epoch``'s ``metrics`` where a pruner reads them; True to stop ``trial``."""
        if not self.live:
            return False
        if self.mo_pruner is not None:
            storage = storage_of(self.study)
            self.mo_pruner.record_epoch(storage, trial_id(trial), epoch, metrics)
            if epoch not in self.mo_pruner.rungs:
                return False
            return self.mo_pruner.prune(self.study, storage.get_trial(trial_id(trial)))
        trial.report(metrics[self.report_metric], epoch)
        return trial.should_prune()
