"""Measuring template protection the ISO/IEC 30136 way (offline benchmark tooling).

``facegate bench protection DIR`` and ``facegate bench lfw`` run :func:`folder_report` and
:func:`lfw_report`: embed the photos with the service's face engine (cached), compare them
raw and protected under every scheme, and report accuracy, unlinkability, renewability,
irreversibility under a stolen key, template size and 1:N speed
(:mod:`facegate.evaluation.report`). Nothing here runs inside the service.
"""

from facegate.evaluation.report import JSON_KEYS, Options, Report, evaluate, render
from facegate.evaluation.runs import default_schemes, folder_report, lfw_report

__all__ = [
    "JSON_KEYS",
    "Options",
    "Report",
    "default_schemes",
    "evaluate",
    "folder_report",
    "lfw_report",
    "render",
]
