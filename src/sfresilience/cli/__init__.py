"""The ``sfresilience`` command: the one package allowed to import `sfresilience.testing`."""

from ._app import app, main


__all__ = ["app", "main"]
