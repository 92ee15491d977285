"""``nas studies`` and ``nas delete``: real SQLite and journal stores, real weight files."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from nas.cli import main
from nas.store import (
    artifacts_base,
    artifacts_dir,
    delete_study,
    list_studies,
    save_weights,
)

from ..helpers import MISSING_STORES, looked_at, run_cli, write_experiment


def make_study(url: str, name: str, values: list[float | None], objectives=None) -> None:
    """A study with one trial per value (``None``: a failed trial)."""
    study = optuna.create_study(study_name=name, storage=url, direction="maximize")
    if objectives is not None:
        study.set_user_attr("objectives", objectives)
    for value in values:
        trial = study.ask()
        if value is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, value)


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    make_study(url, "b", [0.5, 0.75, None], [["val_accuracy", "maximize"]])
    make_study(url, "a", [])
    return url


def test_list_studies_counts_trials_and_finds_the_best(store):
    a, b = list_studies(store)
    assert (a.name, a.n_trials, a.best, a.last_update) == ("a", 0, (None,), None)
    assert b.name == "b" and b.n_trials == 3
    assert b.states == {"COMPLETE": 2, "FAIL": 1}
    assert b.objectives == (("val_accuracy", "maximize"),) and b.best == (0.75,)
    assert b.last_update is not None


def test_nas_studies_prints_a_row_per_study(store, capsys):
    assert main(["studies", "--storage", store]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if "│" in line and "study" not in line]
    assert [row.split("│")[1].strip() for row in rows] == ["a", "b"]
    assert "val_accuracy 0.75" in out


@pytest.mark.parametrize("command", [["studies"], ["delete", "t", "--yes"]])
@pytest.mark.parametrize("store", MISSING_STORES)
def test_on_a_missing_store_nothing_is_created(command, store, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = command if store is None else [*command, "--storage", store]
    assert main(argv) == 2
    where = looked_at(store, tmp_path)
    err = capsys.readouterr().err
    assert where in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_delete_removes_the_study_and_only_its_weights(store, tmp_path):
    folder = artifacts_dir(store, "b")
    other = artifacts_dir(store, "a")
    for number in range(2):
        save_weights(folder, number, {"w": [1.0]})
    save_weights(other, 0, {"w": [1.0]})
    removed = delete_study(store, "b")
    assert removed.removed == 2 and removed.left == ()
    assert not folder.exists()
    assert (other / "trial_0.msgpack").is_file()
    assert [s.name for s in list_studies(store)] == ["a"]


def test_delete_keeps_files_it_did_not_write(store):
    folder = artifacts_dir(store, "b")
    save_weights(folder, 0, {"w": [1.0]})
    (folder / "notes.txt").write_text("mine")
    removed = delete_study(store, "b")
    assert removed.removed == 1 and removed.left == ("notes.txt",)
    assert (folder / "notes.txt").read_text() == "mine"


def test_delete_does_not_follow_a_link_out_of_the_artifacts_folder(store, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "trial_0.msgpack").write_bytes(b"keep")
    base = artifacts_base(store)
    base.mkdir()
    artifacts_dir(store, "b").symlink_to(outside, target_is_directory=True)
    removed = delete_study(store, "b")
    assert removed.removed == 0 and removed.left
    assert (outside / "trial_0.msgpack").read_bytes() == b"keep"


def test_delete_of_an_unknown_study_names_the_studies_there(store, capsys):
    assert main(["delete", "c", "--yes", "--storage", store]) == 2
    assert "no study 'c'" in capsys.readouterr().err
    assert [s.name for s in list_studies(store)] == ["a", "b"]


def test_delete_on_a_piped_stdin_without_yes_refuses(store, tmp_path):
    out = run_cli("delete", "b", "--storage", store, cwd=tmp_path, stdin="y\n")
    assert out.returncode == 2
    assert "--yes" in out.stderr and "not a terminal" in out.stderr
    assert [s.name for s in list_studies(store)] == ["a", "b"]


def test_search_studies_delete_as_a_user_runs_them(tmp_path):
    exp = write_experiment(
        tmp_path, "artifacts: {keep_weights: all}\n", trials=2, storage="sqlite:///store.db"
    )
    assert run_cli("search", str(exp), cwd=tmp_path).returncode == 0
    listed = run_cli("studies", "--storage", "sqlite:///store.db", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "val_accuracy" in listed.stdout and " t " in listed.stdout
    folder = artifacts_dir("sqlite:///store.db", "t")
    assert len(list((tmp_path / folder).glob("trial_*.msgpack"))) == 2
    gone = run_cli("delete", "t", "--yes", "--storage", "sqlite:///store.db", cwd=tmp_path)
    assert gone.returncode == 0, gone.stderr
    assert "2 weight file(s)" in gone.stdout
    assert not (tmp_path / folder).exists()
    listed = run_cli("studies", "--storage", "sqlite:///store.db", cwd=tmp_path)
    assert "no studies in" in listed.stdout
