"""`python -m sfresilience.cli`: the same command as the `sfresilience` script."""

from ._app import main


main()
