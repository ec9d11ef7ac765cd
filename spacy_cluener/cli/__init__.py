"""Command line: `python -m spacy_cluener COMMAND`. Each module adds its command."""
from ._app import app
from . import convert  # noqa: F401
from . import report, predict  # noqa: F401
from . import debug_alignment  # noqa: F401

__all__ = ["app"]
