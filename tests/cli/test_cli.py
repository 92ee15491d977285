"""The ``nas`` command as a user runs it: real processes, real store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

import nas.results as analysis
from nas.cli import main
from nas.search import counted_trials
from nas.store import open_storage

from ..helpers import LONG_TRIALS_SPACE, write_experiment
from ..studies import searched

ROOT = Path(__file__).resolve().parents[2]


def nas(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nas.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("space", ["mlp", "cnn1d", "cnn2d", "rnn"])
def test_validate_shipped_spaces(space, tmp_path):
    out = nas("validate", str(ROOT / "search_spaces" / f"{space}.yaml"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "valid space" in out.stdout and "candidates:" in out.stdout
    assert '"layers"' in out.stdout  # the sampled candidate's JSON


def test_validate_with_dataset_prints_size(tmp_path):
    out = nas(
        "validate", str(ROOT / "search_spaces/cnn2d.yaml"), "--dataset", "digits", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert "parameters" in out.stdout and "FLOPs" in out.stdout


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        (
            "name: x\ninput: flat\nlayers:\n  - {type: dense, features: 8, kernel: 3}\n",
            "layers[0]",
            "kernel",
        ),
        (
            "name: x\ninput: flat\nlayers:\n  - {type: dense, features: {choices: []}}\n",
            "layers[0].features",
            "empty",
        ),
        ("name: x\ninput: flat\nlayers:\n  - {type: conv, features: 8}\n", "layers[0]", "flat"),
    ],
)
def test_validate_errors_exit_2_naming_the_field(text, field, problem, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    out = nas("validate", str(path), cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert str(path) in out.stderr and field in out.stderr and problem in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_search_then_trials_table(tmp_path):
    exp = write_experiment(tmp_path, trials=2, storage="sqlite:///store.db")
    out = nas("search", str(exp), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "trial 0 complete" in out.stderr and "trial 1 complete" in out.stderr
    assert "top trials of t" in out.stdout
    table = nas("trials", "t", "--storage", "sqlite:///store.db", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "COMPLETE" in table.stdout
    # Flags override the file: one more trial into a new study name.
    out = nas("search", str(exp), "--study", "u", "--trials", "1", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    study = optuna.load_study(
        study_name="u", storage=open_storage(f"sqlite:///{tmp_path}/store.db")
    )
    assert len(study.trials) == 1


def test_bad_experiment_exit_2_and_no_store(tmp_path):
    exp = write_experiment(tmp_path, sampler="annealing")
    out = nas("search", str(exp), cwd=tmp_path)
    assert out.returncode == 2
    assert "sampler" in out.stderr and "annealing" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "store.db").exists()


def test_ray_client_address_exit_2_and_no_store(tmp_path):
    exp = write_experiment(tmp_path)
    out = nas("search", str(exp), "--address", "ray://head:10001", cwd=tmp_path)
    assert out.returncode == 2
    assert "--address" in out.stderr and "Ray Client" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "store.db").exists()


def test_unknown_study_exit_2(tmp_path):
    write_experiment(tmp_path)
    storage = f"sqlite:///{tmp_path}/x.db"
    out = nas("trials", "nope", "--storage", storage, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == f"error: no study 'nope' in {storage}; studies there: none"


def test_internal_key_error_is_not_reported_as_bad_input(tmp_path_factory, monkeypatch):
    # Exit status 2 promises the user's input was wrong; a KeyError inside the toolkit is a
    # bug and must surface as one.
    study = searched("mlp", tmp_path_factory)

    def broken(*args, **kwargs):
        raise KeyError("val_accuracy")

    monkeypatch.setattr(analysis, "ranked_rows", broken)
    with pytest.raises(KeyError, match="val_accuracy"):
        main(["trials", study.study, "--storage", study.storage])


READ_TABLE = {"csv": pd.read_csv, "parquet": pd.read_parquet, "json": pd.read_json}


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json", ".CSV"])
def test_trials_output_takes_the_format_from_the_suffix(suffix, tmp_path_factory, tmp_path):
    study = searched("mlp", tmp_path_factory)
    output = tmp_path / f"trials{suffix}"
    assert main(["trials", study.study, "--storage", study.storage, "--output", str(output)]) == 0
    table = READ_TABLE[suffix[1:].lower()](output)
    frame = analysis.load_trials(study.storage, study.study)
    assert sorted(table["number"]) == sorted(frame["number"])
    assert "val_accuracy" in table.columns


def test_trials_output_with_an_unknown_suffix_exit_2(tmp_path_factory, tmp_path, capsys):
    study = searched("mlp", tmp_path_factory)
    output = tmp_path / "trials.txt"
    assert main(["trials", study.study, "--storage", study.storage, "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert str(output) in err and ".csv, .parquet or .json" in err and "--format" in err
    assert not output.exists()


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_keeps_finished_trials_and_resume_finishes(tmp_path):
    exp = write_experiment(tmp_path, trials=6, training="{epochs: 60}", space=LONG_TRIALS_SPACE)
    storage = f"sqlite:///{tmp_path / 'store.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "nas.cli", "search", str(exp)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A runner started in the background may pass SIGINT down ignored; a terminal's
        # Ctrl-C is what this test is about.
        preexec_fn=_default_sigint,
    )
    try:
        study = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if not (tmp_path / "store.db").exists():
                continue
            try:
                study = study or optuna.load_study(study_name="t", storage=open_storage(storage))
            except KeyError:  # the file exists before the study is written into it
                continue
            states = [t.state for t in study.get_trials(deepcopy=False)]
            # Early in the search, so the interrupt cannot land as the last trial ends.
            if 1 <= states.count(TrialState.COMPLETE) <= 2 and states[-1] == TrialState.RUNNING:
                break
        else:
            pytest.fail("the search never had a finished and a running trial")
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "resume" in err and "Traceback" not in err
    study = optuna.load_study(study_name="t", storage=open_storage(storage))
    interrupted = [t for t in study.trials if t.user_attrs.get("fail_reason") == "interrupted"]
    # The running trial, and the one queued behind it while its programs compiled.
    assert 1 <= len(interrupted) <= 2
    finished_before = {t.number for t in study.trials if t.state == TrialState.COMPLETE}
    assert finished_before

    out = nas("search", str(exp), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    study = optuna.load_study(study_name="t", storage=open_storage(storage))
    assert counted_trials(study) == 6
    # Each interrupted candidate was trained again, and earlier results are untouched.
    for trial in interrupted:
        retry = [t for t in study.trials if t.user_attrs.get("retry_of") == trial.number]
        assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE
        assert retry[0].params == trial.params
    assert finished_before <= {t.number for t in study.trials if t.state == TrialState.COMPLETE}
