from .crf_tagger import build_crf_tagger
from .pytorch_crf import EmissionCRF, viterbi_decode

__all__ = ["build_crf_tagger", "EmissionCRF", "viterbi_decode"]
