"""Chinese NER for spaCy: a pytorch-crf tagger on any tok2vec or transformer.

Importing the package registers everything its configs name (as
spacy-transformers does): the `crf_ner` factory, the architectures, the
scorer, the optimizer and the callbacks. The entry points in setup.py import
it, so `spacy.load` and `spacy train` need no `--code`.
"""
from . import layers, training  # noqa: F401  (register architectures, optimizer, callbacks)
from .components import CRFEntityRecognizer, make_crf_ner
from .errors import setup_default_warnings
from .layers import build_bilstm_on_tok2vec, build_char_ngram_embed, build_chunked_tok2vec, build_crf_tagger
from .scoring import make_entity_scorer, score_entities

setup_default_warnings()  # as spaCy's: some warnings are shown once per process

__version__ = "0.1.0"
__all__ = [
    "CRFEntityRecognizer",
    "make_crf_ner",
    "build_bilstm_on_tok2vec",
    "build_char_ngram_embed",
    "build_chunked_tok2vec",
    "build_crf_tagger",
    "make_entity_scorer",
    "score_entities",
]
