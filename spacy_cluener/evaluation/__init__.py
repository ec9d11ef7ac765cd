"""Evaluation beyond one F-score: error kinds, reports, charts.

`report.py` computes (a JSON-ready dict), `render.py` writes it (markdown,
HTML, charts). CLUENER leaderboard files are written by `spacy_cluener.prediction`.
"""
from .entity_errors import FN_KINDS, FP_KINDS, DocResult, EntityError, Mention, analyse_example, analyse_examples
from .render import errors_html, report_to_markdown, write_report
from .report import build_report, evaluate, predict_examples
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
    "evaluate",
    "find_training_log",
    "predict_examples",
    "read_training_dir",
    "read_training_log",
    "report_to_markdown",
    "write_report",
]
