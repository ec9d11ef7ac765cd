"""The layers (thinc and torch) of the package's architectures.

Importing them makes forked children of this process run torch on one
thread: spaCy's `nlp.pipe(n_process=N)` forks its workers on Linux, and in a
process where torch has already run a parallel region (any prediction)
libgomp's thread pool does not survive the fork, so a worker's first torch
call would wait forever. One thread per worker is what n_process wants
anyway (each worker is a process of its own).
"""
import os

import torch

from .bilstm import build_bilstm, build_bilstm_on_tok2vec
from .char_ngram_embed import build_char_ngram_embed, build_char_ngram_embed_v2
from .chunked_tok2vec import build_chunked_tok2vec, with_chunks
from .crf_tagger import build_crf_tagger, build_crf_tagger_v2
from .onnx_transformer import build_onnx_transformer_model
from .pytorch_crf import EmissionCRF, length_mask, viterbi_decode
from .quantized_transformer import build_quantized_transformer_model
from .soft_lexicon import build_soft_lexicon


def _one_torch_thread() -> None:
    torch.set_num_threads(1)


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_one_torch_thread)

__all__ = [
    "build_bilstm",
    "build_bilstm_on_tok2vec",
    "build_char_ngram_embed",
    "build_char_ngram_embed_v2",
    "build_chunked_tok2vec",
    "with_chunks",
    "build_soft_lexicon",
    "build_crf_tagger",
    "build_crf_tagger_v2",
    "build_onnx_transformer_model",
    "build_quantized_transformer_model",
    "EmissionCRF",
    "length_mask",
    "viterbi_decode",
]
