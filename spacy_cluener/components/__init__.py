from .crf_ner import CRFEntityRecognizer, make_crf_ner

__all__ = ["CRFEntityRecognizer", "make_crf_ner"]
