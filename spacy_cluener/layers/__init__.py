from .bilstm import build_bilstm_on_tok2vec
from .char_ngram_embed import build_char_ngram_embed, build_char_ngram_embed_v2
from .chunked_tok2vec import build_chunked_tok2vec, with_chunks
from .crf_tagger import build_crf_tagger
from .onnx_transformer import build_onnx_transformer_model
from .pytorch_crf import EmissionCRF, length_mask, viterbi_decode
from .quantized_transformer import build_quantized_transformer_model
from .soft_lexicon import build_soft_lexicon

__all__ = [
    "build_bilstm_on_tok2vec",
    "build_char_ngram_embed",
    "build_char_ngram_embed_v2",
    "build_chunked_tok2vec",
    "with_chunks",
    "build_soft_lexicon",
    "build_crf_tagger",
    "build_onnx_transformer_model",
    "build_quantized_transformer_model",
    "EmissionCRF",
    "length_mask",
    "viterbi_decode",
]
