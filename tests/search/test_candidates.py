"""Which candidates a search trains: fresh ones on every run, a finished one not again, and
none at all (nothing written) when no candidate of the space fits the constraints."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from nas.errors import SpecError
from nas.search import counted_trials, load_experiment, run_search
from nas.store import open_storage

from ..helpers import write_experiment

# Two candidates in all: the width is the only value drawn.
TWO_CANDIDATES = """
name: two
input: flat
layers:
  - type: dense
    features: {choices: [8, 16]}
optimizer:
  learning_rate: 0.01
  batch_size: 32
"""


def _study(exp) -> optuna.Study:
    return optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))


def _params(study: optuna.Study) -> list[tuple]:
    return [
        tuple(sorted(t.params.items())) for t in study.get_trials(states=(TrialState.COMPLETE,))
    ]


def test_resumed_run_draws_fresh_candidates_reproducibly(tmp_path):
    path = write_experiment(tmp_path, trials=3, training="{epochs: 1}")
    run_search(load_experiment(path))
    run_search(load_experiment(path, {"trials": 6}))
    drawn = _params(_study(load_experiment(path)))
    assert len(drawn) == 6 and len(set(drawn)) == 6
    # The same seed on a new study draws the same first candidates again.
    again = load_experiment(path, {"study": "again"})
    run_search(again)
    assert _params(_study(again)) == drawn[:3]


def test_finished_candidate_is_not_trained_again(tmp_path):
    path = write_experiment(tmp_path, trials=2, training="{epochs: 1}")
    run_search(load_experiment(path))
    exp = load_experiment(path, {"trials": 3})
    study = _study(exp)
    # The first proposal of the next run is trial 0's candidate again.
    study.enqueue_trial(study.trials[0].params)
    summary = run_search(exp)
    trials = _study(exp).trials
    skipped = trials[2]
    assert skipped.state == TrialState.FAIL and skipped.user_attrs["counts"] is False
    assert skipped.user_attrs["duplicate_of"] == 0
    assert skipped.user_attrs["architecture"] == trials[0].user_attrs["architecture"]
    assert skipped.user_attrs["fail_reason"].startswith("duplicate of trial 0: not trained")
    assert "compile_seconds" not in skipped.user_attrs  # never trained
    assert summary.counted == 3 and summary.stopped is None
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(done) == 3 and len({t.user_attrs["architecture"] for t in done}) == 3


def test_exhausted_finite_space_stops_the_search(tmp_path):
    exp = load_experiment(
        write_experiment(tmp_path, space=TWO_CANDIDATES, trials=4, training="{epochs: 1}")
    )
    summary = run_search(exp)
    study = _study(exp)
    done = study.get_trials(states=(TrialState.COMPLETE,))
    assert len({t.user_attrs["architecture"] for t in done}) == len(done) == 2
    assert counted_trials(study) == 2 == summary.counted
    assert "exhausted" in summary.stopped
    # Resuming an exhausted space asks for nothing more.
    before = len(study.trials)
    assert run_search(load_experiment(exp.path)).new_trials == 0
    assert len(_study(exp).trials) == before


def test_retrain_duplicates_trains_them(tmp_path):
    exp = load_experiment(
        write_experiment(
            tmp_path,
            space=TWO_CANDIDATES,
            trials=4,
            training="{epochs: 1}",
            execution="{retrain_duplicates: true}",
        )
    )
    assert exp.execution.retrain_duplicates is True
    summary = run_search(exp)
    assert summary.counted == 4 and summary.stopped is None
    assert len(_study(exp).get_trials(states=(TrialState.COMPLETE,))) == 4


def test_retrain_duplicates_must_be_a_boolean(tmp_path):
    path = write_experiment(tmp_path, execution="{retrain_duplicates: maybe}")
    with pytest.raises(SpecError, match=r"execution\.retrain_duplicates: must be true or false"):
        load_experiment(path)


def test_no_candidate_within_the_constraints_writes_nothing(tmp_path):
    path = write_experiment(tmp_path, space=TWO_CANDIDATES, constraints="{max_params: 10}")
    with pytest.raises(SpecError) as info:
        run_search(load_experiment(path))
    message = str(info.value)
    assert message.startswith(f"{path}: constraints: ")
    assert "constraint: n_params" in message and "loosen the constraints" in message
    assert not (tmp_path / "store.db").exists()


# The big candidate of this space has 10,756 parameters on synthetic data, the small 46.
SMALL_OR_BIG = """
name: small-or-big
input: flat
layers:
  - type: dense
    features: {choices: [2, 512]}
    dropout: {low: 0.0, high: 0.3}
optimizer:
  batch_size: 32
"""


def test_misfits_in_a_row_stop_the_search_keeping_them(tmp_path, monkeypatch):
    monkeypatch.setattr("nas.search.driver.MAX_CONSECUTIVE_REJECTIONS", 3)
    exp = load_experiment(
        write_experiment(tmp_path, space=SMALL_OR_BIG, constraints="{max_params: 1000}", trials=2)
    )
    storage = open_storage(exp.storage)
    study = optuna.create_study(study_name=exp.study, storage=storage, direction="maximize")
    for rate in (0.1, 0.2, 0.3):  # the sampler's next three proposals break the limit
        study.enqueue_trial({"layers.0.0.features": 512, "layers.0.0.dropout": rate})
    summary = run_search(exp)  # no error: what it wrote is kept, and it says why it stopped
    assert summary.counted == 0 and summary.new_trials == 3
    assert summary.stopped.startswith("3 candidates in a row broke the constraints")
    assert "kept as uncounted trials" in summary.stopped
    trials = _study(exp).trials
    assert [t.user_attrs.get("rejected") for t in trials] == [True] * 3


def test_duplicates_in_a_row_stop_the_search(tmp_path, monkeypatch):
    monkeypatch.setattr("nas.search.driver.MAX_CONSECUTIVE_DUPLICATES", 2)
    path = write_experiment(tmp_path, trials=1, training="{epochs: 1}")
    run_search(load_experiment(path))
    exp = load_experiment(path, {"trials": 3})
    study = _study(exp)
    for _ in range(2):
        study.enqueue_trial(study.trials[0].params)
    summary = run_search(exp)
    assert summary.counted == 1 and summary.new_trials == 2
    assert "the space looks exhausted" in summary.stopped
    assert [t.user_attrs.get("duplicate_of") for t in _study(exp).trials] == [None, 0, 0]
