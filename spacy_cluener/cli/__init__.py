"""Command line: `python -m spacy_cluener COMMAND`. Each module adds its command."""
from . import (  # noqa: F401
    annotate,
    calibrate,  # noqa: F401
    convert,  # noqa: F401
    debug_alignment,  # noqa: F401
    predict,
    quantize,
    report,
)
from ._app import app, refuse_same_file, run_script

__all__ = ["app", "refuse_same_file", "run_script"]
