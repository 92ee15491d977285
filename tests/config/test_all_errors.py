"""An experiment file with several independent mistakes names them all at once, its space
file's with them."""

from __future__ import annotations

import pytest

from nas.cli import main
from nas.config import load_experiment
from nas.errors import SpecError, SpecErrors

from ..helpers import write_experiment

BAD_SPACE = "name: s\ninput: flat\nlayers:\n  - {type: dense, features: 0}\n  - {type: densse}\n"


def test_every_independent_mistake_is_named(tmp_path):
    path = write_experiment(
        tmp_path,
        "colour: blue\nexecution: {workers: 0}\n",
        sampler="annealing",
        training="{epochs: 0}",
        seed=-1,
        space=BAD_SPACE,
    )
    with pytest.raises(SpecErrors) as info:
        load_experiment(path)
    found = [(err.source, err.field) for err in info.value.errors]
    space = str(tmp_path / "space.yaml")
    assert found == [
        (str(path), "colour"),
        (str(path), "training.epochs"),
        (str(path), "sampler"),
        (str(path), "seed"),
        (str(path), "execution.workers"),
        (space, "layers[0].features"),
        (space, "layers[1].type"),
    ]
    text = str(info.value)
    assert text.startswith(f"{path}: 7 problems\n")
    assert f"  {space}: layers[1].type: unknown layer type 'densse'" in text


def test_a_single_mistake_stays_as_it_was(tmp_path):
    path = write_experiment(tmp_path, sampler="annealing")
    with pytest.raises(SpecError) as info:
        load_experiment(path)
    assert not isinstance(info.value, SpecErrors) and info.value.field == "sampler"


def test_the_command_prints_them_all_and_exits_2(tmp_path, capsys):
    path = write_experiment(tmp_path, sampler="annealing", pruner="sometimes")
    assert main(["search", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: 2 problems\n")
    assert "  sampler: " in err and "  pruner: " in err
    assert not (tmp_path / "store.db").exists()
