"""JAX's persistent compilation cache, so a resumed or repeated search skips recompiling.

Compiled programs are stored on disk keyed by the program and the XLA version; a later
process that needs the same program loads it instead of compiling. Location: the
``NAS_COMPILATION_CACHE`` environment variable (a folder, or ``off``), else
``$XDG_CACHE_HOME/nas/xla`` (``~/.cache/nas/xla``).
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

_enabled: str | None = None


def cache_dir() -> Path | None:
    """The folder in use by this process's settings, or None when the cache is off."""
    setting = os.environ.get("NAS_COMPILATION_CACHE", "").strip()
    if setting.lower() in ("off", "0", "false", "none"):
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nas" / "xla"


def enable_compilation_cache() -> Path | None:
    """Turn the cache on for this process (idempotent); returns its folder or None."""
    global _enabled
    folder = cache_dir()
    if folder is None:
        return None
    if _enabled != str(folder):
        folder.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(folder))
        # Small models compile in well under a second: cache them all.
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        _enabled = str(folder)
    return folder
