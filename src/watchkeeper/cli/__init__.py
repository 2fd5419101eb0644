"""The ``watchkeeper`` command: one sub-command module per feature, wired here."""

from ._main import main

__all__ = ["main"]
