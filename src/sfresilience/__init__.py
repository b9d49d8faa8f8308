"""Runbook-grade resilience for Salesforce integrations built on simple-salesforce."""

from importlib.metadata import version as _version


__version__ = _version("sfresilience")

__all__: list[str] = []
