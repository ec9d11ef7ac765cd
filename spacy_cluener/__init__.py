"""Chinese NER for spaCy: a pytorch-crf tagger on any tok2vec or transformer."""
from . import callbacks  # noqa: F401  (registers spacy_cluener.time_budget.v1)
from .components import CRFEntityRecognizer, make_crf_ner
from .layers import build_crf_tagger
from .scoring import make_entity_scorer, score_entities

__version__ = "0.1.0"
__all__ = ["CRFEntityRecognizer", "make_crf_ner", "build_crf_tagger", "make_entity_scorer", "score_entities"]
