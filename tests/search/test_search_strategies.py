"""Regularized evolution and local search (``sampler: evolution``, ``sampler: local_search``)
on real spaces and real Optuna studies, sampled as the driver samples (``make_sampler``,
``space.sample(OptunaSuggest(trial))``), with a cheap synthetic objective in place of
training. The full searches they run are in test_samplers.py."""

from __future__ import annotations

import textwrap
import zlib
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from nas.model import Architecture
from nas.search import OptunaSuggest, make_sampler
from nas.search.plans import steps
from nas.space import FixedSuggest, Space, load_space

# Finite, with parameters that come and go: a repeat count adds features, and an optional
# layer's type decides which parameter it has.
CONDITIONAL = """
name: conditional
input: flat
skip: {choices: [none, residual]}
layers:
  - type: dense
    repeat: {low: 1, high: 3}
    features: {choices: [8, 16]}
  - one_of:
      - {type: norm, kind: {choices: [batch, layer]}}
      - {type: dropout, rate: {choices: [0.1, 0.3]}}
    repeat: {low: 0, high: 1}
optimizer:
  learning_rate: {choices: [0.001, 0.01]}
  batch_size: 32
"""
CONDITIONAL_SIZE = 280

# Ranges with steps, a log-scaled continuous rate, and a repeat that may remove every layer.
MIXED = """
name: mixed
input: flat
layers:
  - type: dense
    repeat: {low: 0, high: 3}
    features: {low: 8, high: 64, step: 8}
    dropout: {low: 0.0, high: 0.5, step: 0.1}
optimizer:
  learning_rate: {low: 1.0e-4, high: 1.0e-1, log: true}
  batch_size: {choices: [16, 32]}
"""

# Cells: one shared cell drawn edge by edge (ops.E), and an optional cell whose edges are
# drawn only when it exists (layers.1.0.ops.E).
CELLS = """
name: cells
input: image
shared:
  ops: {choices: [none, skip, conv3x3]}
layers:
  - {type: cell, features: 4, nodes: 3}
  - type: cell
    repeat: {low: 0, high: 1}
    features: 4
    nodes: 3
    ops: [skip, {choices: [none, conv1x1]}, {choices: [avgpool3x3, conv3x3]}]
"""
CELLS_SIZE = 27 * (1 + 4)
TEXTS = [CONDITIONAL, MIXED, CELLS]
TEXT_IDS = ["conditional", "mixed", "cells"]

SAMPLERS = [
    ("evolution", {"population": 6, "tournament": 3}),
    ("evolution", {"population": 2}),
    ("local_search", {}),
]
IDS = ["evolution", "evolution-small", "local-search"]


def space_of(text: str, tmp_path: Path) -> Space:
    path = tmp_path / "space.yaml"
    path.write_text(textwrap.dedent(text))
    return load_space(path)


def score(params: dict[str, Any]) -> float:
    """A rugged but fixed landscape: each (parameter, value) pair adds its own amount."""
    return sum(zlib.crc32(f"{n}={v!r}".encode()) % 1000 for n, v in params.items()) / 1000


def new_study(name: str, options: dict, seed: int = 0, storage: str | None = None, **kw):
    return optuna.create_study(
        storage=storage,
        study_name="s",
        sampler=make_sampler(name, options, seed),
        load_if_exists=True,
        **kw,
    )


def drive(study: optuna.Study, space: Space, n: int, in_flight: int = 1) -> None:
    """Ask and tell ``n`` trials, ``in_flight`` of them asked before the oldest is told (as
    a driver with several workers does)."""
    running: list[optuna.Trial] = []
    for _ in range(n):
        trial = study.ask()
        space.sample(OptunaSuggest(trial))
        running.append(trial)
        if len(running) >= in_flight:
            done = running.pop(0)
            study.tell(done, score(done.params))
    for done in running:
        study.tell(done, score(done.params))


def record(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    return next(v for k, v in trial.system_attrs.items() if k in ("evolution", "local_search"))


def agrees_but(a: dict, b: dict, name: str) -> bool:
    """Whether ``a`` and ``b`` hold the same value for every parameter both hold but
    ``name``, and differ in ``name``."""
    return a[name] != b[name] and all(a[n] == b[n] for n in a.keys() & b.keys() if n != name)


class Recorder(FixedSuggest):
    """Replays params, noting every name the space asks for."""

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.asked: list[str] = []

    def _get(self, name: str) -> Any:
        self.asked.append(name)
        return super()._get(name)


@pytest.mark.parametrize(("name", "options"), SAMPLERS, ids=IDS)
@pytest.mark.parametrize("text", TEXTS, ids=TEXT_IDS)
def test_every_candidate_is_one_of_the_space(name, options, text, tmp_path):
    space = space_of(text, tmp_path)
    study = new_study(name, options, direction="maximize")
    drive(study, space, 40)
    for trial in study.trials:
        replay = Recorder(trial.params)
        space.sample(replay)  # raises where a value is outside its range, choices or step
        assert sorted(replay.asked) == sorted(trial.params)  # nothing stale, nothing missing
        for n, value in trial.params.items():
            if isinstance(trial.distributions[n], optuna.distributions.IntDistribution):
                assert type(value) is int
        arch = space.sample(FixedSuggest(trial.params))
        assert Architecture.from_json(arch.to_json()) == arch  # cells keep valid ops lists


@pytest.mark.parametrize("text", TEXTS, ids=TEXT_IDS)
def test_an_evolution_child_is_a_recent_parent_with_one_parameter_changed(text, tmp_path):
    space = space_of(text, tmp_path)
    population = 5
    study = new_study("evolution", {"population": population}, direction="maximize")
    drive(study, space, 40)
    trials = study.trials
    children = [t for t in trials if record(t)["parent"] is not None]
    assert [t.number for t in trials if t not in children][:population] == list(range(5))
    assert len(children) >= 30
    for child in children:
        parent = trials[record(child)["parent"]]
        # Aging: the parent is among the last `population` trials finished before the child.
        assert child.number - population <= parent.number < child.number
        assert agrees_but(child.params, parent.params, record(child)["param"])
    changed = {record(c)["param"].split(".")[-1] for c in children}
    assert "repeat" in changed  # structural mutations happen, and (above) stay valid
    if text is CELLS:
        assert {record(c)["param"].split(".")[-2] for c in children} >= {"ops"}


def test_a_local_search_trial_is_one_step_from_its_center(tmp_path):
    space = space_of(MIXED, tmp_path)
    study = new_study("local_search", {}, direction="maximize")
    drive(study, space, 60)
    trials = study.trials
    moves = [t for t in trials if record(t)["role"] == "neighbour"]
    assert len(moves) > 40
    for trial in moves:
        center, name = trials[record(trial)["center"]], record(trial)["param"]
        assert agrees_but(trial.params, center.params, name)
        assert trial.params[name] in steps(center.distributions[name], center.params[name])
    # The first descent moves on: later trials are neighbours of an improved candidate.
    centers = {record(t)["center"] for t in moves if record(t)["descent"] == 0}
    assert len(centers) > 1
    assert all(score(trials[c].params) > score(trials[0].params) for c in centers - {0})


@pytest.mark.parametrize(("name", "options"), SAMPLERS, ids=IDS)
@pytest.mark.parametrize("in_flight", [1, 3])
@pytest.mark.parametrize(
    ("text", "size"), [(CONDITIONAL, CONDITIONAL_SIZE), (CELLS, CELLS_SIZE)], ids=TEXT_IDS[::2]
)
def test_no_candidate_repeats_until_the_space_is_used_up(
    name, options, in_flight, text, size, tmp_path
):
    space = space_of(text, tmp_path)
    assert space.cardinality() == size
    study = new_study(name, options, direction="maximize")
    drive(study, space, size, in_flight)
    seen = {tuple(sorted(t.params.items())) for t in study.trials}
    assert len(seen) == size


@pytest.mark.parametrize(("name", "options"), SAMPLERS, ids=IDS)
def test_a_resumed_study_goes_on_as_an_uninterrupted_one(name, options, tmp_path):
    space = space_of(MIXED, tmp_path)
    whole = new_study(name, options)
    drive(whole, space, 24)
    url = f"sqlite:///{tmp_path / 'resumed.db'}"
    drive(new_study(name, options, storage=url), space, 10)
    # A fresh sampler in a fresh study object: all it knows is the store.
    resumed = optuna.load_study(study_name="s", storage=url, sampler=make_sampler(name, options, 0))
    drive(resumed, space, 14)

    def history(study):
        return [(t.params, t.value, record(t)) for t in study.get_trials()]

    assert history(resumed) == history(whole)
    if name == "evolution":
        later = [record(t)["parent"] for t in resumed.trials[10:]]
        assert any(p is not None and p < 10 for p in later)  # parents from the first run


@pytest.mark.parametrize(("name", "options"), SAMPLERS, ids=IDS)
def test_a_seed_reproduces_a_search(name, options, tmp_path):
    space = space_of(MIXED, tmp_path)
    runs = {}
    for run, seed in (("a", 1), ("b", 1), ("c", 2)):
        study = new_study(name, options, seed=seed)
        drive(study, space, 20)
        runs[run] = [t.params for t in study.trials]
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]


def test_local_search_ends_after_its_restarts_at_local_optima(tmp_path):
    space = space_of(CONDITIONAL, tmp_path)
    study = new_study("local_search", {"restarts": 2}, direction="maximize")
    sampler = study.sampler
    asked = 0
    while not sampler.exhausted and asked < CONDITIONAL_SIZE:
        drive(study, space, 1)
        asked += 1
    assert sampler.exhausted and asked < CONDITIONAL_SIZE
    assert sampler.stop_reason == (
        "local search is done: its 3 descent(s) each reached a local optimum (sampler.restarts: 2)"
    )
    trials = study.trials
    starts = [t for t in trials if record(t)["role"] == "restart"]
    assert [record(t)["descent"] for t in starts] == [0, 1, 2]

    def local_optimum(best: optuna.trial.FrozenTrial) -> bool:
        """Whether every neighbour of ``best`` is in the study, and none is better."""
        for n, distribution in best.distributions.items():
            for value in steps(distribution, best.params[n]):
                near = [t for t in trials if n in t.params and t.params[n] == value]
                near = [t for t in near if agrees_but(t.params, best.params, n)]
                if not near or any(t.value > best.value for t in near):
                    return False
        return True

    for descent in range(3):
        # Each descent ended at a local optimum at least as good as all it evaluated.
        top = max(t.value for t in trials if record(t)["descent"] == descent)
        assert any(t.value >= top and local_optimum(t) for t in trials)


def test_evolution_with_two_objectives_keeps_non_dominated_parents(tmp_path):
    space = space_of(MIXED, tmp_path)
    study = new_study("evolution", {"population": 4, "tournament": 4}, directions=["maximize"] * 2)
    for _ in range(30):
        trial = study.ask()
        space.sample(OptunaSuggest(trial))
        study.tell(trial, [score(trial.params), -len(trial.params)])
    trials = study.trials
    for child in trials[4:]:
        pool = trials[child.number - 4 : child.number]
        parent = trials[record(child)["parent"]]
        # With the whole population in the tournament, the winner is on its front.
        assert not any(
            all(a >= b for a, b in zip(t.values, parent.values, strict=True))
            and t.values != parent.values
            for t in pool
        )


def test_evolution_beats_random_search_on_a_smooth_objective(tmp_path):
    space = space_of(MIXED, tmp_path)

    def best_found(name: str, options: dict, seed: int) -> float:
        study = new_study(name, options, seed=seed, direction="maximize")
        for _ in range(60):
            trial = study.ask()
            space.sample(OptunaSuggest(trial))
            p = trial.params
            wide = sum(v for k, v in p.items() if k.endswith("features"))
            study.tell(trial, wide - 100 * sum(v for k, v in p.items() if k.endswith("dropout")))
        return study.best_value

    seeds = range(6)
    evolution = sum(best_found("evolution", {"population": 10}, s) for s in seeds)
    random = sum(best_found("random", {}, s) for s in seeds)
    assert evolution > random


def test_failed_and_running_trials_count_as_seen(tmp_path):
    space = space_of(CONDITIONAL, tmp_path)
    study = new_study("evolution", {"population": 3}, direction="maximize")
    drive(study, space, 3)
    failed = study.ask()
    space.sample(OptunaSuggest(failed))
    study.tell(failed, state=TrialState.FAIL)
    running = [study.ask() for _ in range(4)]
    for trial in running:
        space.sample(OptunaSuggest(trial))
    held = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(set(held)) == len(held) == 8
