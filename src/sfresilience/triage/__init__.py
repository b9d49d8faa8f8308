"""The runbook's quick triage: the five checks, the decision tree, the next commands.

Used by ``sfresilience triage``; the status source is an interface
(:class:`StatusSource`) so that the My Trust Center API can replace Trust v1.
"""

from ._checks import Check
from ._decide import VERDICTS, Verdict, decide
from ._run import Report, Target, run_triage
from ._status import InstanceHealth, StatusSource, StatusUnavailable, TrustV1


__all__ = [
    "VERDICTS",
    "Check",
    "InstanceHealth",
    "Report",
    "StatusSource",
    "StatusUnavailable",
    "Target",
    "TrustV1",
    "Verdict",
    "decide",
    "run_triage",
]
