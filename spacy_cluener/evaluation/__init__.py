"""Evaluation beyond one F-score: error kinds, reports, charts (see `report` CLI)."""
from .entity_errors import FN_KINDS, FP_KINDS, DocResult, EntityError, Mention, analyse_example, analyse_examples
from .report import build_report, errors_html, predict_examples, report_to_markdown
from .training_log import find_training_log, read_training_dir, read_training_log

__all__ = [
    "FN_KINDS",
    "FP_KINDS",
    "DocResult",
    "EntityError",
    "Mention",
    "analyse_example",
    "analyse_examples",
    "build_report",
    "errors_html",
    "predict_examples",
    "report_to_markdown",
    "find_training_log",
    "read_training_dir",
    "read_training_log",
]
