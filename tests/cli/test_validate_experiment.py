"""``nas validate`` on an experiment file: checked as a search checks it, nothing written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from nas.cli import main
from nas.config import file_kind
from nas.errors import SpecError

from ..helpers import run_cli, write_experiment

ROOT = Path(__file__).resolve().parents[2]


def nas(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # Libraries keep caches under HOME (matplotlib's font list); the command's own writes
    # would land in the working folder or beside the store, both under ``cwd``.
    return run_cli(*args, cwd=cwd, env={"HOME": str(cwd.parent / f"{cwd.name}-home")})


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def test_a_valid_experiment_prints_what_a_search_would_do_and_writes_nothing(tmp_path):
    exp = write_experiment(
        tmp_path, "constraints: {max_params: 700}\n", trials=7, timeout=90, sampler="tpe"
    )
    before = files_under(tmp_path)
    out = nas("validate", str(exp), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "valid experiment" in text and "study 't'" in text
    assert "sampler: tpe" in text and "pruner: none" in text
    assert "7 trials and timeout 90 s" in text
    assert "16 candidates" in text.replace(",", "") or "infinitely many candidates" in text
    # Two dense widths (16, 32) on 10 features: only some candidates fit 700 parameters.
    assert "max_params 700" in text
    rejected = int(text.split("max_params 700; ")[1].split(" of 200")[0])
    assert 0 < rejected < 200
    assert "nothing was written" in text
    assert files_under(tmp_path) == before


def test_the_shipped_experiments_validate(tmp_path):
    out = nas("validate", str(ROOT / "experiments" / "digits_mlp.yaml"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "sampler: tpe; pruner: median" in out.stdout
    assert not (tmp_path / "nas.db").exists()
    assert list(tmp_path.iterdir()) == []


def test_an_experiment_none_of_whose_candidates_fits_exits_2(tmp_path, capsys):
    exp = write_experiment(tmp_path, "constraints: {max_params: 10}\n")
    assert main(["validate", str(exp)]) == 2
    err = capsys.readouterr().err
    assert "constraints" in err and "none of 200 candidates" in err
    assert not (tmp_path / "store.db").exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"sampler": "annealing"}, "sampler"),
        ({"sampler": "{name: tpe, startup: 3}"}, "sampler"),  # Optuna refuses it
        ({"dataset": "{path: missing.npz}"}, "dataset.path"),
        ({"training": "{epochs: 0}"}, "training.epochs"),
    ],
)
def test_a_bad_experiment_exits_2_naming_the_field(fields, field, tmp_path, capsys):
    exp = write_experiment(tmp_path, **fields)
    assert main(["validate", str(exp)]) == 2
    err = capsys.readouterr().err
    assert str(exp) in err and field in err
    assert not (tmp_path / "store.db").exists()


def test_an_experiment_whose_data_do_not_fit_its_space_exits_2(tmp_path, capsys):
    layer = "{type: conv, features: 4, kernel_size: 999, padding: valid}"
    space = f"name: s\ninput: sequence\nlayers:\n  - {layer}\n"
    exp = write_experiment(tmp_path, space=space)
    assert main(["validate", str(exp)]) == 2
    err = capsys.readouterr().err
    assert "space.yaml: layers[0]" in err and "input shape" in err


def test_dataset_flag_with_an_experiment_is_refused(tmp_path, capsys):
    exp = write_experiment(tmp_path)
    assert main(["validate", str(exp), "--dataset", "digits"]) == 2
    assert "--dataset" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"name": "x", "input": "flat", "layers": []}, "space"),
        ({"layers": 3}, "space"),
        ({"study": "s"}, "experiment"),
        ({"space": "s.yaml", "name": "x"}, "experiment"),
        ({"dataset": "digits", "trials": 3}, "experiment"),
        ({"input": "flat", "optimizer": {}}, "space"),
    ],
)
def test_file_kind_is_told_by_content(data, kind):
    assert file_kind(data, "f.yaml") == kind


@pytest.mark.parametrize("data", [{"foo": 1, "bar": 2}, [1, 2], "text", None])
def test_a_file_of_neither_kind_is_named_so(data):
    with pytest.raises(SpecError) as err:
        file_kind(data, "f.yaml")
    assert err.value.source == "f.yaml"
    assert "search space" in str(err.value) and "experiment" in str(err.value)


def test_validate_on_a_file_of_neither_kind_exits_2(tmp_path, capsys):
    path = tmp_path / "f.yaml"
    path.write_text("colour: blue\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "neither" in err and "'colour'" in err
