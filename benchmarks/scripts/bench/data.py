"""The benchmark's data: paths, CLUENER dev docs and their examples."""
import os
from pathlib import Path
from typing import List

import spacy
from spacy.language import Language
from spacy.tokens import DocBin
from spacy.training import Example, offsets_to_biluo_tags

from spacy_cluener.converters import DOCBIN_ATTRS, convert_file

REPO = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("SPACY_CLUENER_SHARED", REPO.parent / "shared"))
CLUENER_DEV = SHARED / "data" / "cluener2020" / "dev.json"
MSRA_TRAIN = SHARED / "data" / "msra" / "train.txt"
BERT_VOCAB = SHARED / "models" / "chinese-bert-vocab" / "vocab.txt"
CNN_CONFIG = REPO / "configs" / "cnn_crf.cfg"
TRF_CONFIG = REPO / "configs" / "trf_crf.cfg"


def read_dev_docs(n_docs: int) -> DocBin:
    """The first n_docs CLUENER dev records (0: all), made by our converter."""
    doc_bin, _ = convert_file(CLUENER_DEV, "cluener")
    if n_docs and n_docs < len(doc_bin):
        docs = list(doc_bin.get_docs(spacy.blank("zh").vocab))[:n_docs]
        doc_bin = DocBin(docs=docs, attrs=DOCBIN_ATTRS)
    return doc_bin


def make_examples(nlp: Language, doc_bin: DocBin, with_biluo_tags: bool) -> List[Example]:
    """Examples in nlp's vocab; for the softmax head the BILUO entity tags
    are also the reference's token tags."""
    examples = []
    for ref in doc_bin.get_docs(nlp.vocab):
        if with_biluo_tags:
            spans = [(e.start_char, e.end_char, e.label_) for e in ref.ents]
            for token, tag in zip(ref, offsets_to_biluo_tags(ref, spans)):
                token.tag_ = tag
        examples.append(Example(nlp.make_doc(ref.text), ref))
    return examples
