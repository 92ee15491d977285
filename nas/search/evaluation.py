"""The test split, evaluated once, after the search, for the best trials only."""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.data import Dataset
from nas.model import Architecture
from nas.store import load_weights, weights_path
from nas.training import TrainConfig, Trainer


def best_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The best trial, or the Pareto front with several objectives (empty when none finished)."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        return []
    return list(study.best_trials) if len(study.directions) > 1 else [study.best_trial]


def evaluate_best(
    study: optuna.Study, data: Dataset, config: TrainConfig, folder: Path
) -> tuple[list[FrozenTrial], dict[int, dict[str, float]]]:
    """Test metrics of the best trials whose weights are kept, stored in the study's
    ``test_metrics`` attribute (trial number -> metrics). Nothing else ever sees the test
    split; a trial evaluated by an earlier run is not evaluated again."""
    best = best_trials(study)
    results: dict[int, dict[str, float]] = {
        int(k): v for k, v in study.user_attrs.get("test_metrics", {}).items()
    }
    trainer = Trainer(config)
    for trial in best:
        # A stored name is data: only the file name the search gives this trial is read.
        path = weights_path(folder, trial.user_attrs.get("weights"), trial.number)
        if trial.number in results or path is None or not path.exists():
            continue
        arch = Architecture.from_json(trial.user_attrs["architecture"])
        variables = load_weights(folder, path.name)
        metrics = trainer.evaluate(arch, variables, data.x_test, data.y_test, data.num_classes)
        results[trial.number] = {"test_accuracy": metrics["accuracy"], "test_loss": metrics["loss"]}
    study.set_user_attr("test_metrics", {str(k): v for k, v in results.items()})
    return best, {t.number: results[t.number] for t in best if t.number in results}
