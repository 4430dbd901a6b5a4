"""Evaluation: metrics, the harness behind `assistant eval`, its report, and the BEIR check."""

from .beir import BeirResult, run_beir, write_beir_report
from .harness import DEFAULT_QA, MODES, EvalConfig, EvalReport, default_out, evaluate, load_gold
from .report import write_report

__all__ = [
    "DEFAULT_QA",
    "MODES",
    "BeirResult",
    "EvalConfig",
    "EvalReport",
    "default_out",
    "evaluate",
    "load_gold",
    "run_beir",
    "write_beir_report",
    "write_report",
]
