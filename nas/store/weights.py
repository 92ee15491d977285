"""Trained weights as files beside the store, one msgpack file per trial.

A study's files live in one folder (:func:`artifacts_dir`) inside the artifacts folder; a
trial records the file's name (its ``weights`` attribute, ``trial_N.msgpack`` for trial N),
never a path, and readers join it to that folder only after :func:`weights_path` checked it.

The study's folder is named from the study, never by the study name itself, since a name is
any text (``../x``, ``/tmp/x``, ``a/b``): ``<slug>~<hash>``, where the slug keeps the name's
letters, digits, ``.``, ``_`` and ``-`` (others become ``-``, at most 40 characters) so people
can tell folders apart, and the hash (the first 12 hex digits of the SHA-256 of the exact
name) keeps distinct names (``a/b`` and ``a-b``, ``A`` and ``a``) in distinct folders.
Studies searched before this scheme have their files in ``<base>/<study name>``; that folder
is still used while it exists and the new one does not, where the name is a safe relative
path (no empty, ``.`` or ``..`` part, not absolute, no NUL or backslash) whose folder
resolves inside the artifacts folder, so their weights are found and
their later trials join them. A part shaped like a new folder name (``...~<12 hex>``) is not
taken for an old folder, since it could be another study's new one.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import flax.serialization

from nas.urls import is_journal

WEIGHTS_NAME = re.compile(r"trial_(\d+)\.msgpack")
_HASHED = re.compile(r".*~[0-9a-f]{12}", re.DOTALL)
SLUG_CHARS = 40


def study_folder_name(study: str) -> str:
    """The name of a study's folder in the artifacts folder (see the module docstring): one
    path part, never ``.`` or ``..``, the same for the same name and distinct for distinct
    names."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", study).strip(".-")[:SLUG_CHARS].rstrip(".-")
    slug = slug or "study"
    digest = hashlib.sha256(study.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{slug}~{digest}"


def _legacy_folder(base: Path, study: str) -> Path | None:
    """``base / study`` where that is how the folder was named before and stays inside
    ``base``; ``None`` for names that were never safe to use as a path."""
    parts = study.split("/")
    if any(p in ("", ".", "..") or "\0" in p or "\\" in p or _HASHED.fullmatch(p) for p in parts):
        return None
    return base.joinpath(*parts)


def artifacts_dir(url: str, study: str, override: str | None = None) -> Path:
    """Folder of a study's weight files, inside the artifacts folder: ``override``, else
    beside an SQLite or journal file (``<stem>_artifacts``), else ./nas_artifacts. The
    study's part of the path is :func:`study_folder_name`, or the pre-existing folder of an
    older study (module docstring)."""
    if override:
        base = Path(override)
    elif url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        base = db.with_name(db.stem + "_artifacts")
    elif is_journal(url):
        base = Path(url).with_name(Path(url).stem + "_artifacts")
    else:
        base = Path("nas_artifacts")
    folder = base / study_folder_name(study)
    legacy = _legacy_folder(base, study)
    # A link inside the artifacts folder must not lead the study's files out of it.
    if (
        legacy is not None
        and not folder.exists()
        and legacy.is_dir()
        and legacy.resolve().is_relative_to(base.resolve())
    ):
        return legacy
    return folder


def weights_name(trial_number: int) -> str:
    """The file name :func:`save_weights` gives trial ``trial_number``'s weights."""
    return f"trial_{trial_number}.msgpack"


def weights_path(folder: Path, name: object, trial_number: int | None = None) -> Path | None:
    """The file a stored ``weights`` attribute names in the study's ``folder``, or ``None``
    when ``name`` is not a name :func:`save_weights` writes (with ``trial_number``: the one
    it writes for that trial). A stored value is data: nothing else is ever joined to the
    folder, so no stored text reaches a file outside it."""
    if not isinstance(name, str):
        return None
    if WEIGHTS_NAME.fullmatch(name) is None or (
        trial_number is not None and name != weights_name(trial_number)
    ):
        return None
    return folder / name


def save_weights(folder: Path, trial_number: int, variables: Any) -> str:
    """Write ``variables`` (a pytree of arrays) as msgpack; returns the file name. The file
    appears whole or not at all: on any failure (a full disk, say) the partial temporary
    file is removed and the error raised."""
    data = flax.serialization.msgpack_serialize(variables)
    folder.mkdir(parents=True, exist_ok=True)
    name = weights_name(trial_number)
    tmp = folder / (name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, folder / name)  # atomic: a crash never leaves half a file
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return name


def load_weights(folder: Path, name: str) -> Any:
    """Inverse of :func:`save_weights`. Raises ``ValueError`` when ``name`` is not a file
    name it writes (see :func:`weights_path`), before touching any file."""
    path = weights_path(folder, name)
    if path is None:
        raise ValueError(f"{name!r} is not a weights file name (trial_N.msgpack)")
    return flax.serialization.msgpack_restore(path.read_bytes())
