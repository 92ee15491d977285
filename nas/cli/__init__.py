"""The ``nas`` command: a thin layer over the library (:mod:`nas.cli.main`)."""

from nas.cli.main import main

__all__ = ["main"]
