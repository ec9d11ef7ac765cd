"""One file in, one DocBin out, with the report of what happened to each record."""
from pathlib import Path
from typing import Callable, Dict, Iterator, Tuple, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin

from ..errors import Errors
from ..util import atomic_open
from .cluener import read_cluener
from .conll import read_conll
from .labelling import read_doccano, read_label_studio
from .records import ConversionReport

# What a corpus needs: the characters and the gold entities (CLUENER test ids
# go in user_data, stored only when present, see `convert_file`).
DOCBIN_ATTRS = ["ORTH", "ENT_IOB", "ENT_TYPE"]

Converter = Callable[[str, Language, str, ConversionReport], Iterator[Doc]]
CONVERTERS: Dict[str, Converter] = {
    # the pipeline's own tokenizer for CLUENER, so training and prediction see the same tokens
    "cluener": lambda path, nlp, scheme, report: read_cluener(path, nlp, report),
    "conll": lambda path, nlp, scheme, report: read_conll(path, nlp.vocab, scheme, report, nlp.max_length),
    # exports of the labelling tools (converters/labelling.py)
    "labelstudio": lambda path, nlp, scheme, report: read_label_studio(path, nlp, report),
    "doccano": lambda path, nlp, scheme, report: read_doccano(path, nlp, report),
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
    """Write a .spacy file atomically (`spacy_cluener.util.atomic_open`)."""
    with atomic_open(path, "wb") as file_:
        file_.write(doc_bin.to_bytes())
