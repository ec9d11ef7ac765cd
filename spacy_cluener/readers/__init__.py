from .cluener import read_cluener
from .conll import read_conll
from .report import ConversionReport

__all__ = ["read_cluener", "read_conll", "ConversionReport"]
