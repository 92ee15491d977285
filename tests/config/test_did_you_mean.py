"""Unknown names in an experiment file come with the closest known name, when one is close."""

from __future__ import annotations

import pytest

from nas.config import load_experiment
from nas.errors import SpecError

from ..helpers import write_experiment


@pytest.mark.parametrize(
    ("fields", "body", "field", "suggestion"),
    [
        ({"sampler": "tpee"}, "", "sampler", "'tpe'"),
        ({"sampler": "{name: nsga}"}, "", "sampler.name", "'nsga2'"),
        ({"pruner": "hyperbands"}, "", "pruner", "'hyperband'"),
        ({"dataset": "digit"}, "", "dataset", "'digits'"),
        ({"dataset": "{nmae: digits}"}, "", "dataset.nmae", "'name'"),
        ({"objectives": "{val_acuracy: maximize}"}, "", "objectives.val_acuracy", "'val_accuracy'"),
        ({"objectives": "{val_accuracy: maximise}"}, "", "objectives.val_accuracy", "'maximize'"),
        ({}, "tirals: 4\n", "tirals", "'trials'"),
        ({"training": "{epoch: 3}"}, "", "training.epoch", "'epochs'"),
        ({}, "artifacts: {keep_weights: best}\n", "artifacts.keep_weights", "'best_k'"),
    ],
)
def test_an_unknown_name_suggests_the_closest_known_one(fields, body, field, suggestion, tmp_path):
    path = write_experiment(tmp_path, body, **fields)
    with pytest.raises(SpecError) as err:
        load_experiment(path)
    assert err.value.field == field
    assert err.value.problem.endswith(f"did you mean {suggestion}?")


def test_a_name_close_to_nothing_gets_no_suggestion(tmp_path):
    path = write_experiment(tmp_path, sampler="annealing")
    with pytest.raises(SpecError) as err:
        load_experiment(path)
    assert "did you mean" not in str(err.value)
