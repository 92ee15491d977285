"""The test-set evaluation after a search reads only the weight file the search wrote for
each best trial, never a path a stored ``weights`` attribute names."""

from __future__ import annotations

from optuna.trial import create_trial

from nas.search.evaluation import evaluate_best
from nas.training import TrainConfig

from ..helpers import searched_with_weights_outside


def test_evaluation_skips_a_best_trial_whose_stored_name_is_a_path(tmp_path):
    # A file outside the study's folder that would load: a copy of real weights.
    exp, study, folder, _outside = searched_with_weights_outside(tmp_path)
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
