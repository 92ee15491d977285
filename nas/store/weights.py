"""Trained weights as files beside the store, one msgpack file per trial.

A study's files live in one folder (:func:`artifacts_dir`); a trial records the file's name
(its ``weights`` attribute), never a path, and readers join it to that folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import flax.serialization

from nas.urls import is_journal


def artifacts_dir(url: str, study: str, override: str | None = None) -> Path:
    """Folder of a study's weight files: beside an SQLite or journal file, else ./nas_artifacts."""
    if override:
        base = Path(override)
    elif url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        base = db.with_name(db.stem + "_artifacts")
    elif is_journal(url):
        base = Path(url).with_name(Path(url).stem + "_artifacts")
    else:
        base = Path("nas_artifacts")
    return base / study


def save_weights(folder: Path, trial_number: int, variables: Any) -> str:
    """Write ``variables`` (a pytree of arrays) as msgpack; returns the file name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"trial_{trial_number}.msgpack"
    tmp = folder / (name + ".tmp")
    tmp.write_bytes(flax.serialization.msgpack_serialize(variables))
    os.replace(tmp, folder / name)  # atomic: a crash never leaves half a file
    return name


def load_weights(folder: Path, name: str) -> Any:
    """Inverse of :func:`save_weights`."""
    return flax.serialization.msgpack_restore((folder / name).read_bytes())
