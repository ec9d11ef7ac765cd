"""Evaluation beyond one F-score: error kinds, reports, charts, submissions.

`report.py` computes (a JSON-ready dict), `render.py` writes it (markdown,
HTML, charts), `submission.py` writes CLUENER leaderboard files.
"""
from .entity_errors import FN_KINDS, FP_KINDS, DocResult, EntityError, Mention, analyse_example, analyse_examples
from .render import errors_html, report_to_markdown, write_report
from .report import build_report, evaluate, predict_examples
from .submission import doc_to_cluener_label, json_line, predict_file, read_cluener_texts
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
    "doc_to_cluener_label",
    "errors_html",
    "evaluate",
    "find_training_log",
    "json_line",
    "predict_examples",
    "predict_file",
    "read_cluener_texts",
    "read_training_dir",
    "read_training_log",
    "report_to_markdown",
    "write_report",
]
