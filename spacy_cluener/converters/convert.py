"""One file in, one DocBin out, with the report of what happened to each record."""
import os
import tempfile
from pathlib import Path
from typing import Callable, Dict, Iterator, Tuple, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin

from ..errors import Errors
from .cluener import read_cluener
from .conll import read_conll
from .report import ConversionReport

# What a corpus needs: the characters and the gold entities (CLUENER test ids
# go in user_data, stored only when present, see `convert_file`).
DOCBIN_ATTRS = ["ORTH", "ENT_IOB", "ENT_TYPE"]

Converter = Callable[[str, Language, str, ConversionReport], Iterator[Doc]]
CONVERTERS: Dict[str, Converter] = {
    # the pipeline's own tokenizer for CLUENER, so training and prediction see the same tokens
    "cluener": lambda path, nlp, scheme, report: read_cluener(path, nlp, report),
    "conll": lambda path, nlp, scheme, report: read_conll(path, nlp.vocab, scheme, report, nlp.max_length),
}


def convert_file(
    input_path: Union[str, Path], fmt: str, scheme: str = "BIO", lang: str = "zh"
) -> Tuple[DocBin, ConversionReport]:
    """Read one file into a DocBin; the report says what happened to each record.

    RAISES (ValueError): an unknown format, or a report that does not balance
        (read != written + rejected: a converter bug, never the data's fault).
    """
    if fmt not in CONVERTERS:
        raise ValueError(Errors.E008.format(fmt=fmt, allowed=", ".join(CONVERTERS)))
    nlp = spacy.blank(lang)
    report = ConversionReport(str(input_path))
    docs = list(CONVERTERS[fmt](str(input_path), nlp, scheme, report))
    # user_data holds CLUENER test ids; serialising an empty one per doc would
    # double the conversion time of MSRA, so it is stored only when present.
    doc_bin = DocBin(attrs=DOCBIN_ATTRS, store_user_data=any(doc.user_data for doc in docs))
    for doc in docs:
        doc_bin.add(doc)
    if not report.balanced:
        raise ValueError(Errors.E010.format(summary=report.summary()))
    return doc_bin, report


def write_docbin(doc_bin: DocBin, path: Union[str, Path]) -> None:
    """Write a .spacy file atomically (see write_bytes_atomic)."""
    write_bytes_atomic(doc_bin.to_bytes(), path)


def write_bytes_atomic(data: bytes, path: Union[str, Path]) -> None:
    """Write atomically: a temp file in the same directory, then a rename, so
    a full disk or a kill never leaves a truncated file in place of the
    previous one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as file_:
            file_.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
