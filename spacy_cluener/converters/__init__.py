"""File-format converters: corpora -> Docs with one token per character.

In spaCy, `@readers` are corpus readers (`spacy.Corpus.v1`); these are
converters, like `spacy/training/converters/*_to_docs.py`. Each one fills a
`ConversionReport`, so that nothing is dropped without a line saying why.
"""
from .cluener import parse_record, read_cluener
from .conll import read_conll
from .convert import CONVERTERS, DOCBIN_ATTRS, convert_file, write_docbin
from .records import ConversionReport, RecordError

__all__ = [
    "CONVERTERS",
    "DOCBIN_ATTRS",
    "ConversionReport",
    "RecordError",
    "convert_file",
    "parse_record",
    "read_cluener",
    "read_conll",
    "write_docbin",
]
