"""Checks that explain what a model sees: `debug-alignment`."""
from .alignment import AlignmentReport, DocAlignment, PieceRow, check_alignment, load_pipeline

__all__ = ["AlignmentReport", "DocAlignment", "PieceRow", "check_alignment", "load_pipeline"]
