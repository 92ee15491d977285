"""The report says how a study was searched (settings, dates, the absolute store), warns
about importances from few trials, and draws the Pareto front as a staircase."""

from __future__ import annotations

import html
import re
import warnings

import numpy as np
import optuna
import pytest
from matplotlib.figure import Figure
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from nas.results import load_trials, write_report
from nas.results.pareto import pareto_mask
from nas.results.plots import front_steps, plot_front
from nas.search import load_experiment, run_search

from ..helpers import write_experiment
from ..studies import searched


def settings(page: str) -> dict[str, str]:
    """The settings table of a report page: label -> text."""
    rows = re.findall(r"<tr><th>([^<]*)</th><td>([^<]*)</td></tr>", page)
    return {html.unescape(name): html.unescape(text) for name, text in rows}


def test_the_report_shows_each_runs_settings_the_dates_and_the_absolute_store(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    common = {
        "storage": "sqlite:///store.db",
        "training": "{epochs: 1}",
        "constraints": "{max_params: 100000}",
        "seed": 7,
    }
    run_search(load_experiment(write_experiment(tmp_path, trials=1, sampler="random", **common)))
    second = write_experiment(tmp_path, trials=2, sampler="tpe", pruner="median", **common)
    run_search(load_experiment(second))

    page = write_report("sqlite:///store.db", "t", tmp_path / "report").read_text()
    shown = settings(page)
    assert shown["Store"] == f"sqlite:///{tmp_path / 'store.db'}"
    assert shown["Weights"].startswith(str(tmp_path / "store_artifacts"))
    assert re.fullmatch(
        r"from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\S* to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\S* "
        r"\(2 runs of nas search\)",
        shown["Searched"],
    )
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", shown["Report written"])
    assert shown["Split"].startswith("480 training, 120 validation (20% of the training data")
    assert "drawn with seed 7" in shown["Split"] and "200 test" in shown["Split"]
    assert shown["Objectives"] == "maximize validation accuracy"
    assert shown["Training"] == "1 epoch"
    assert shown["Constraints"] == "max_params 100,000"
    # Sampler and pruner changed between the runs: each is named with its runs.
    assert shown["Sampler"] == "random (run 1); tpe (n_startup_trials 10 by default) (run 2)"
    assert shown["Pruner"] == "none (run 1); median (run 2)"
    assert shown["Seed"] == "7"
    assert shown["Budget (last run)"] == "2 trials, 1 at a time"
    assert shown["Experiment file (last run)"] == str(second)


def test_a_study_without_run_records_says_so(tmp_path):
    storage = f"sqlite:///{tmp_path / 'old.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study = optuna.create_study(study_name="old", storage=storage)
    study.set_user_attr("objectives", [["val_accuracy", "maximize"]])
    shown = settings(write_report(storage, "old", tmp_path / "r").read_text())
    assert shown["Store"] == storage
    assert "not recorded" in shown["Sampler, pruner, seed"]
    assert "not recorded" in shown["Training"] and "not recorded" in shown["Split"]


def test_importances_from_few_trials_carry_a_caveat(tmp_path_factory, tmp_path):
    cnn = searched("cnn", tmp_path_factory)
    page = write_report(cnn.storage, cnn.study, tmp_path / "r").read_text()
    assert "importances.png" in page
    done = int((load_trials(cnn.storage, cnn.study)["state"] == "COMPLETE").sum())
    assert f"Caution: estimated from only {done} complete trials" in page


def test_importances_from_enough_trials_carry_none(tmp_path):
    storage = f"sqlite:///{tmp_path / 'many.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study = optuna.create_study(study_name="many", storage=storage, direction="maximize")
    study.set_user_attr("objectives", [["val_accuracy", "maximize"]])
    rng = np.random.default_rng(0)
    distributions = {"lr": FloatDistribution(1e-4, 1e-1, log=True), "depth": IntDistribution(1, 4)}
    for _ in range(25):
        params = {"lr": float(10 ** rng.uniform(-4, -1)), "depth": int(rng.integers(1, 5))}
        value = 0.5 + 0.1 * params["depth"] + rng.normal(0, 0.01)
        study.add_trial(
            create_trial(
                state=TrialState.COMPLETE,
                value=value,
                params=params,
                distributions=distributions,
            )
        )
    page = write_report(storage, "many", tmp_path / "r").read_text()
    assert "importances.png" in page and "Caution" not in page


DIRECTIONS = [
    ("minimize", "maximize"),
    ("minimize", "minimize"),
    ("maximize", "maximize"),
    ("maximize", "minimize"),
]


@pytest.mark.parametrize("directions", DIRECTIONS)
def test_the_front_staircase_bounds_what_the_front_beats(directions):
    rng = np.random.default_rng(1)
    points = rng.uniform(0, 1, size=(40, 2))
    front = points[pareto_mask(points, directions)]
    steps = front_steps(front, points, directions)
    segments = np.diff(steps, axis=0)
    # Every segment is horizontal or vertical, and every front point is a corner.
    assert np.all((segments[:, 0] == 0) | (segments[:, 1] == 0))
    corners = {tuple(v) for v in steps}
    assert all(tuple(p) in corners for p in front)
    # Along the staircase both coordinates move one way only.
    for axis in (0, 1):
        moves = np.sign(segments[:, axis])
        assert len(set(moves[moves != 0])) <= 1
    # It reaches the other trials' range at both ends, on the side of worse values.
    signs = np.array([1 if d == "minimize" else -1 for d in directions])
    worst = (points * signs).max(axis=0) * signs
    assert worst[1] in steps[[0, -1], 1] and worst[0] in steps[[0, -1], 0]


def test_the_report_front_is_drawn_as_the_staircase(tmp_path_factory):
    cnn = searched("cnn", tmp_path_factory)
    frame = load_trials(cnn.storage, cnn.study)
    ax = Figure().subplots()
    front = plot_front(ax, frame, "n_params", "val_accuracy")
    (line,) = ax.lines
    vertices = line.get_xydata()
    segments = np.diff(vertices, axis=0)
    assert np.all((segments[:, 0] == 0) | (segments[:, 1] == 0))
    corners = {tuple(v) for v in vertices}
    assert all((float(r.n_params), float(r.val_accuracy)) in corners for r in front.itertuples())
