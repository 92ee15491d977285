"""Where weight files go and which the toolkit reads or deletes: the study name and the
stored ``weights`` attribute are data, never paths (real searches on tiny data)."""

from __future__ import annotations

import resource
import signal

import numpy as np
import optuna
import pytest

from nas.search import load_experiment, run_search
from nas.store import (
    artifacts_dir,
    load_weights,
    open_storage,
    save_weights,
    study_folder_name,
    weights_path,
)

from ..helpers import write_experiment

BEST_1 = "{keep_weights: best_k, k: 1}"


def _search(tmp_path, study: str, trials: int = 2, artifacts: str = BEST_1):
    exp = load_experiment(
        write_experiment(
            tmp_path, trials=trials, training="{epochs: 1}", artifacts=artifacts, study=study
        )
    )
    run_search(exp)
    return exp, optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))


@pytest.mark.parametrize("where", ["absolute", "dotdot"])
def test_a_study_name_naming_a_folder_writes_and_deletes_nothing_there(where, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "trial_99.msgpack").write_bytes(b"not yours")
    # The artifacts folder is tmp_path/store_artifacts: "../victim" is tmp_path/victim.
    study = str(victim) if where == "absolute" else "../victim"
    exp, done = _search(tmp_path, f'"{study}"')

    assert sorted(p.name for p in victim.iterdir()) == ["trial_99.msgpack"]
    assert (victim / "trial_99.msgpack").read_bytes() == b"not yours"
    base = tmp_path / "store_artifacts"
    folder = artifacts_dir(exp.storage, exp.study)
    assert folder.parent == base and folder.name == study_folder_name(study)
    # best_k with k=1: exactly the best trial's file is kept, inside the artifacts folder.
    assert sorted(p.name for p in folder.iterdir()) == [f"trial_{done.best_trial.number}.msgpack"]
    assert load_weights(folder, done.best_trial.user_attrs["weights"])["params"]


def test_retention_deletes_only_files_the_search_wrote(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, study="t"))
    folder = artifacts_dir(exp.storage, exp.study)
    folder.mkdir(parents=True)
    (folder / "trial_99.msgpack").write_bytes(b"put here by hand")
    (folder / "notes.txt").write_text("mine")
    _, done = _search(tmp_path, "t")
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        ["notes.txt", "trial_99.msgpack", f"trial_{done.best_trial.number}.msgpack"]
    )
    assert done.user_attrs["weights_dropped"] == {
        str(t.number): "best_k (k=1)" for t in done.trials if t.number != done.best_trial.number
    }


def test_folder_names_are_one_safe_part_and_distinct_per_name():
    names = ["a/b", "a-b", "a_b", "A", "a", "..", ".", "", "../x", "/tmp/x", "x" * 300, "ü"]
    folders = [study_folder_name(n) for n in names]
    assert len(set(folders)) == len(names)
    for folder in folders:
        assert "/" not in folder and folder not in (".", "..") and len(folder) <= 60
    assert study_folder_name("digits-mlp").startswith("digits-mlp~")
    assert study_folder_name("a/b") == study_folder_name("a/b")  # stable


def test_a_study_from_before_keeps_its_folder(tmp_path):
    """Studies searched before the folder scheme have their files in <base>/<study>."""
    exp, done = _search(tmp_path, "old/run", trials=1, artifacts="{keep_weights: all}")
    base = tmp_path / "store_artifacts"
    new = artifacts_dir(exp.storage, exp.study)
    legacy = base / "old" / "run"
    legacy.parent.mkdir()
    new.rename(legacy)  # the layout an older version left
    assert artifacts_dir(exp.storage, exp.study) == legacy
    assert load_weights(legacy, done.trials[0].user_attrs["weights"])["params"]
    # Later trials of the study join the old folder.
    _search(tmp_path, "old/run", trials=2, artifacts="{keep_weights: all}")
    assert sorted(p.name for p in legacy.iterdir()) == ["trial_0.msgpack", "trial_1.msgpack"]
    assert not new.exists()


@pytest.mark.parametrize(
    "name", ["../../../../etc/passwd", "/etc/passwd", "trial_0.msgpack/..", "x.msgpack", 3]
)
def test_stored_names_other_than_the_toolkits_are_refused(name, tmp_path):
    assert weights_path(tmp_path, name) is None
    if isinstance(name, str):
        with pytest.raises(ValueError, match="not a weights file name"):
            load_weights(tmp_path, name)
    assert weights_path(tmp_path, "trial_1.msgpack", 2) is None  # another trial's file
    assert weights_path(tmp_path, "trial_2.msgpack", 2) == tmp_path / "trial_2.msgpack"


VARIABLES = {"params": {"w": np.zeros(100_000, np.float32)}}


def test_a_failed_replace_leaves_no_temporary_file(tmp_path):
    # A folder where the file should go: the rename fails after the data was written.
    (tmp_path / "trial_0.msgpack").mkdir()
    (tmp_path / "trial_0.msgpack" / "x").write_text("")
    with pytest.raises(OSError):
        save_weights(tmp_path, 0, VARIABLES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trial_0.msgpack"]


def test_a_full_disk_leaves_no_temporary_file(tmp_path):
    # The file size limit makes the write fail part way, as a full disk does.
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    try:
        with pytest.raises(OSError):
            save_weights(tmp_path, 0, VARIABLES)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert list(tmp_path.iterdir()) == []
