"""The test-set evaluation after a search reads only the weight file the search wrote for
each best trial, never a path a stored ``weights`` attribute names."""

from __future__ import annotations

import shutil

import optuna
from optuna.trial import create_trial

from nas.search import load_experiment, run_search
from nas.search.evaluation import evaluate_best
from nas.store import artifacts_dir, open_storage
from nas.training import TrainConfig

from ..helpers import write_experiment


def test_evaluation_skips_a_best_trial_whose_stored_name_is_a_path(tmp_path):
    exp = load_experiment(
        write_experiment(
            tmp_path, trials=1, training="{epochs: 1}", artifacts="{keep_weights: all}"
        )
    )
    run_search(exp)
    study = optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))
    folder = artifacts_dir(exp.storage, exp.study)
    outside = tmp_path / "outside.msgpack"
    shutil.copy(folder / "trial_0.msgpack", outside)
    real = study.trials[0]
    # A better trial than any real one, whose weights attribute leads out of the folder.
    study.add_trial(
        create_trial(
            value=real.value + 1.0,
            params=real.params,
            distributions=real.distributions,
            user_attrs={**real.user_attrs, "weights": "../../outside.msgpack"},
        )
    )
    best, metrics = evaluate_best(study, exp.load_data(), TrainConfig(epochs=1), folder)
    assert [t.number for t in best] == [1]
    assert metrics == {}
    assert set(study.user_attrs["test_metrics"]) == {"0"}  # from the search, not trial 1
