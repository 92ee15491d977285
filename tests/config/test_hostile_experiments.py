"""Experiment files written to hurt: a folder for a space, alias bombs, deep nesting, huge
keys. Each is one short SpecError naming the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from nas.config import load_experiment
from nas.errors import SpecError

SPACE = "name: s\ninput: flat\nlayers: [{type: dense, features: 8}]\n"
EXPERIMENT = (
    "study: s\nspace: {space}\ndataset: synthetic\ntraining: {{epochs: 1}}\n"
    "objectives: {{val_accuracy: maximize}}\ntrials: 1\n"
)


def test_space_path_that_is_a_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "spaces").mkdir()
    path = tmp_path / "exp.yaml"
    path.write_text(EXPERIMENT.format(space="spaces"))
    with pytest.raises(SpecError) as info:
        load_experiment(path)
    err = info.value
    assert (err.source, err.field) == (str(path), "space")
    assert err.problem == f"is a folder, not a file: {tmp_path / 'spaces'}"


def test_experiment_alias_bomb_is_refused(tmp_path: Path) -> None:
    (tmp_path / "space.yaml").write_text(SPACE)
    levels = ["&a0 [x,x,x,x,x,x,x,x,x]"]
    levels += [f"&a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    path = tmp_path / "exp.yaml"
    path.write_text(EXPERIMENT.format(space="space.yaml") + f"sampler: [{','.join(levels)}]\n")
    with pytest.raises(SpecError) as info:
        load_experiment(path)
    assert info.value.source == str(path)
    assert "expands to more than 1,000,000 values" in info.value.problem


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (
            "constraints: {" + "k" * 1000 + ": 1}\n",
            "constraints.'" + "k" * 17 + "..." + "k" * 18 + "'",
        ),
        ('objectives: {"\\e[2J": maximize}\n', "objectives.'\\x1b[2J'"),
        ("storage: " + "s" * 100_000 + "\n", "storage"),
    ],
    ids=["long-key", "escape-key", "long-value"],
)
def test_keys_and_values_are_shown_short_and_escaped(
    extra: str, field: str, tmp_path: Path
) -> None:
    (tmp_path / "space.yaml").write_text(SPACE)
    path = tmp_path / "exp.yaml"
    text = EXPERIMENT.format(space="space.yaml")
    if extra.startswith("objectives"):
        text = text.replace("objectives: {val_accuracy: maximize}\n", "")
    path.write_text(text + extra)
    with pytest.raises(SpecError) as info:
        load_experiment(path)
    assert info.value.field == field
    assert "\x1b" not in str(info.value)
    assert len(info.value.problem) < 300


def test_a_timeout_past_float_range_is_refused(tmp_path: Path) -> None:
    # Found by tests/test_fuzz.py: an OverflowError traceback.
    (tmp_path / "space.yaml").write_text(SPACE)
    path = tmp_path / "exp.yaml"
    path.write_text(EXPERIMENT.format(space="space.yaml") + "timeout: " + "9" * 400 + "\n")
    with pytest.raises(SpecError) as info:
        load_experiment(path)
    assert info.value.field == "timeout"
    assert info.value.problem.startswith("must be a number > 0, got 9999")
