"""The persistent compilation cache: where it goes and that a search fills it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nas.training import cache_dir

from ..helpers import write_experiment


def test_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NAS_COMPILATION_CACHE", "off")
    assert cache_dir() is None
    monkeypatch.setenv("NAS_COMPILATION_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("NAS_COMPILATION_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "nas" / "xla"


def _search(exp: Path, cwd: Path, cache: str) -> None:
    env = {**os.environ, "NAS_COMPILATION_CACHE": cache}
    out = subprocess.run(
        [sys.executable, "-m", "nas.cli", "search", str(exp)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr


def test_a_search_fills_the_cache_and_off_writes_nothing(tmp_path):
    exp = write_experiment(tmp_path, trials=1, training="{epochs: 1}")
    _search(exp, tmp_path, str(tmp_path / "xla"))
    entries = list((tmp_path / "xla").iterdir())
    assert entries, "compiled programs are stored"
    # The same candidate in a second study: served from the cache, nothing new is written.
    _search(
        write_experiment(tmp_path, trials=1, training="{epochs: 1}", study="again"),
        tmp_path,
        str(tmp_path / "xla"),
    )
    assert sorted(p.name for p in (tmp_path / "xla").iterdir()) == sorted(p.name for p in entries)
    _search(write_experiment(tmp_path, trials=1, study="cold"), tmp_path, "off")
    assert not (tmp_path / "off").exists()
