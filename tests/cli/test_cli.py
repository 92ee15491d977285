"""The ``nas`` command as a user runs it: real processes, real store."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import optuna
import pandas as pd
import psutil
import pytest
import sqlalchemy
from optuna.trial import TrialState
from sqlalchemy import event

import nas.results as analysis
from nas.cli import main
from nas.search import counted_trials
from nas.store import artifacts_dir, open_storage, read_study

from ..helpers import LONG_TRIALS_SPACE, MISSING_STORES, looked_at, run_cli, write_experiment
from ..studies import searched

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("space", ["mlp", "cnn1d", "cnn2d", "rnn"])
def test_validate_shipped_spaces(space, tmp_path):
    out = run_cli("validate", str(ROOT / "search_spaces" / f"{space}.yaml"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "valid space" in out.stdout and "candidates:" in out.stdout
    assert '"layers"' in out.stdout  # the sampled candidate's JSON


def test_validate_with_dataset_prints_size(tmp_path):
    out = run_cli(
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
    out = run_cli("validate", str(path), cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert str(path) in out.stderr and field in out.stderr and problem in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_search_then_trials_table(tmp_path):
    exp = write_experiment(tmp_path, trials=2, storage="sqlite:///store.db")
    out = run_cli("search", str(exp), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "trial 0 complete" in out.stderr and "trial 1 complete" in out.stderr
    assert "top trials of t" in out.stdout
    table = run_cli("trials", "t", "--storage", "sqlite:///store.db", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "trials of t, best first" in table.stdout and "architecture" in table.stdout
    # Flags override the file: one more trial into a new study name.
    out = run_cli("search", str(exp), "--study", "u", "--trials", "1", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    study = optuna.load_study(
        study_name="u", storage=open_storage(f"sqlite:///{tmp_path}/store.db")
    )
    assert len(study.trials) == 1


def test_bad_experiment_exit_2_and_no_store(tmp_path):
    exp = write_experiment(tmp_path, sampler="annealing")
    out = run_cli("search", str(exp), cwd=tmp_path)
    assert out.returncode == 2
    assert "sampler" in out.stderr and "annealing" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "store.db").exists()


def test_ray_client_address_exit_2_and_no_store(tmp_path):
    exp = write_experiment(tmp_path)
    out = run_cli("search", str(exp), "--address", "ray://head:10001", cwd=tmp_path)
    assert out.returncode == 2
    assert "--address" in out.stderr and "Ray Client" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "store.db").exists()


def test_unknown_study_exit_2(tmp_path):
    write_experiment(tmp_path)
    storage = f"sqlite:///{tmp_path}/x.db"
    out = run_cli("trials", "nope", "--storage", storage, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == f"error: no study 'nope' in {storage}; studies there: none"


def test_internal_key_error_is_not_reported_as_bad_input(tmp_path_factory, monkeypatch):
    # Exit status 2 promises the user's input was wrong; a KeyError inside the toolkit is a
    # bug and must surface as one.
    study = searched("mlp", tmp_path_factory)

    def broken(*args, **kwargs):
        raise KeyError("val_accuracy")

    monkeypatch.setattr(analysis, "load_trials", broken)
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


@pytest.mark.parametrize("workers", ["1", "2"])  # in this process; on Ray, from a host process
def test_ctrl_c_keeps_finished_trials_and_resume_finishes(tmp_path, workers):
    exp = write_experiment(tmp_path, trials=6, training="{epochs: 60}", space=LONG_TRIALS_SPACE)
    storage = f"sqlite:///{tmp_path / 'store.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "nas.cli", "search", str(exp), "--workers", workers],
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
        children = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "resume" in err and "Traceback" not in err
    # Nothing it started outlives it (a Ray host, Ray's processes).
    _, left = psutil.wait_procs(children, timeout=30)
    assert not left, [p.cmdline() for p in left]
    study = optuna.load_study(study_name="t", storage=open_storage(storage))
    interrupted = [t for t in study.trials if t.user_attrs.get("fail_reason") == "interrupted"]
    # The running trials: one per worker, or one and the one queued behind it while its
    # programs compiled.
    assert 1 <= len(interrupted) <= 2
    finished_before = {t.number for t in study.trials if t.state == TrialState.COMPLETE}
    assert finished_before

    out = run_cli("search", str(exp), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    study = optuna.load_study(study_name="t", storage=open_storage(storage))
    assert counted_trials(study) == 6
    # Each interrupted candidate was trained again, and earlier results are untouched.
    for trial in interrupted:
        retry = [t for t in study.trials if t.user_attrs.get("retry_of") == trial.number]
        assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE
        assert retry[0].params == trial.params
    assert finished_before <= {t.number for t in study.trials if t.state == TrialState.COMPLETE}


# -- store faults and read-only commands ------------------------------------------------


def _one_error_line(err: str) -> str:
    """The error line of a failed command, checked to be all it printed of the failure."""
    errors = [line for line in err.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and err.endswith(errors[0] + "\n"), err
    assert "Traceback" not in err and "max length" not in err
    return errors[0]


@pytest.mark.parametrize(
    ("where", "problem"),
    [
        ("foo://x", "foo://x: unknown kind of store 'foo'"),
        ("sqlite:///{tmp}/missing/x.db", "folder {tmp}/missing does not exist"),
        ("sqlite:///{tmp}/random.db", "the file is not an SQLite database"),
    ],
    ids=["scheme", "missing-folder", "random-bytes"],
)
def test_a_store_location_mistake_exits_2_in_one_line(where, problem, tmp_path, capsys):
    exp = write_experiment(tmp_path, trials=1, training="{epochs: 1}")
    noise = os.urandom(8192)
    (tmp_path / "random.db").write_bytes(noise)
    url = where.format(tmp=tmp_path)
    assert main(["search", str(exp), "--storage", url]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: {url}:") and problem.format(tmp=tmp_path) in line
    assert not (tmp_path / "missing").exists()
    assert (tmp_path / "random.db").read_bytes() == noise


def test_a_closed_postgresql_port_exits_3_with_the_password_masked(tmp_path):
    exp = write_experiment(tmp_path, trials=1, training="{epochs: 1}")
    # Bound but not listening: connecting to the port is refused at once.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"postgresql://nas:s3cret@127.0.0.1:{closed.getsockname()[1]}/nas"
        out = run_cli("search", str(exp), "--storage", url, cwd=tmp_path)
    assert out.returncode == 3, out.stderr
    line = _one_error_line(out.stderr)
    assert line.startswith(f"error: {url.replace('s3cret', '***')}: cannot connect")
    assert "s3cret" not in out.stderr + out.stdout


@contextmanager
def sqlite_pragma(pragma: str) -> Iterator[None]:
    """Run ``pragma`` on every SQLite connection opened inside the block (SQLAlchemy's pool
    event), so the real store fails the way a read-only or full disk makes it fail."""

    def run(dbapi_connection: object, record: object) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute(pragma)

    event.listen(sqlalchemy.pool.Pool, "connect", run)
    try:
        yield
    finally:
        event.remove(sqlalchemy.pool.Pool, "connect", run)


def _searched_once(folder: Path) -> tuple[Path, str, list]:
    """A store with one finished trial: the experiment, the store and its records."""
    exp = write_experiment(folder, trials=1, training="{epochs: 1}")
    assert main(["search", str(exp)]) == 0
    storage = f"sqlite:///{folder / 'store.db'}"
    return exp, storage, read_study(storage, "t").trials


def test_a_read_only_store_exits_3_and_keeps_the_finished_trials(tmp_path, capsys):
    exp, storage, before = _searched_once(tmp_path)
    capsys.readouterr()
    # query_only: SQLite refuses every write with SQLITE_READONLY, as for a read-only file
    # (which root, who runs these tests here, could still write).
    with sqlite_pragma("PRAGMA query_only=1"):
        assert main(["search", str(exp), "--trials", "2"]) == 3
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: {storage}: the store is read-only")
    assert read_study(storage, "t").trials == before


def test_a_full_disk_under_the_store_exits_3_and_keeps_the_finished_trials(tmp_path, capsys):
    exp, storage, before = _searched_once(tmp_path)
    capsys.readouterr()
    with sqlite3.connect(tmp_path / "store.db") as conn:
        conn.execute("VACUUM")  # no free pages left to reuse
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    # Past max_page_count SQLite fails the write with SQLITE_FULL, as on a full disk. A
    # trial's attributes take over 1 KB, so seven more outgrow the free space of a table's
    # last 4 KB page.
    with sqlite_pragma(f"PRAGMA max_page_count={pages}"):
        assert main(["search", str(exp), "--trials", "8"]) == 3
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: {storage}: the disk is full")
    after = read_study(storage, "t").trials
    assert [t for t in after if t.number < len(before)] == before


def test_a_full_disk_for_the_weights_exits_3_and_keeps_the_finished_trials(tmp_path, capsys):
    exp, storage, before = _searched_once(tmp_path)
    capsys.readouterr()
    # The next trial's weights are written to this name first: /dev/full fails every write
    # with ENOSPC, as a full disk does.
    (artifacts_dir(storage, "t") / "trial_1.msgpack.tmp").symlink_to("/dev/full")
    assert main(["search", str(exp), "--trials", "2"]) == 3
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: {storage}: no space left on the disk")
    after = read_study(storage, "t").trials
    assert [t for t in after if t.number < len(before)] == before


@pytest.mark.parametrize(
    "command",
    [
        ["trials", "t"],
        ["trials", "t", "--output", "out/t.csv"],
        ["report", "t", "--output", "out"],
        ["export", "t", "--output", "out/m.py"],
    ],
    ids=["trials", "trials-output", "report", "export"],
)
@pytest.mark.parametrize("store", MISSING_STORES)
def test_read_only_commands_on_a_missing_store_create_nothing(
    command, store, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    argv = command if store is None else [*command, "--storage", store]
    assert main(argv) == 2
    where = looked_at(store, tmp_path)
    err = capsys.readouterr().err
    assert err == f"error: no study 't' in {where}; studies there: none\n"
    assert list(tmp_path.iterdir()) == []


def test_report_of_an_unknown_study_creates_no_folder(tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'store.db'}"
    optuna.create_study(study_name="other", storage=open_storage(storage))
    argv = ["report", "t", "--storage", storage, "--output", str(tmp_path / "report")]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("error: no study 't'")
    assert not (tmp_path / "report").exists()
