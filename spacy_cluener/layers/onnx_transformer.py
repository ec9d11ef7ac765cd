"""`spacy_cluener.OnnxTransformerModel.v1`: spacy-transformers'
`TransformerModel` whose BERT runs in ONNX Runtime, int8, on CPU.

The same arguments, spans, tokenizer, alignment and output
(`FullTransformerBatch`) as `spacy-transformers.TransformerModel.v3`: only
the module that maps wordpiece ids to hidden states differs. It is an
onnxruntime session on BERT exported to ONNX and quantised by onnxruntime's
dynamic int8 quantisation (layers/onnx_shim.py). It is what `python -m
spacy_cluener quantize --runtime onnx` writes into a pipeline's config:
`spacy.load` and the packaged wheel build it through the entry point, and its
shim reads the int8 ONNX graph saved with it. The session is made

- at load, from the saved ONNX graph, or from an fp32 state saved by
  `TransformerModel.v1`-`v3`, exported and quantised in memory (this is what
  `quantize --runtime onnx` does before it saves; needs `onnx` too);
- never at initialize: an ONNX pipeline is made from a trained fp32 one
  (E081).

Inference only, as the torch int8 model: an update raises E079. Needs
`pip install spacy-cluener[onnx]` (onnxruntime; onnx to export).
"""
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model

if TYPE_CHECKING:
    from spacy_transformers.data_classes import FullTransformerBatch

ARCHITECTURE = "spacy_cluener.OnnxTransformerModel.v1"


@registry.architectures(ARCHITECTURE)
def build_onnx_transformer_model(
    name: str,
    get_spans: Callable,
    tokenizer_config: Optional[Dict[str, Any]] = None,
    transformer_config: Optional[Dict[str, Any]] = None,
    mixed_precision: bool = False,
    grad_scaler_config: Optional[Dict[str, Any]] = None,
    threads: int = 0,
) -> Model[List[Doc], "FullTransformerBatch"]:
    """`spacy-transformers.TransformerModel.v3` whose BERT is an int8 ONNX Runtime session (CPU, inference).

    name (str): the fp32 model it was made from (kept for the record; not read).
    get_spans (Callable[[List[Doc]], List[Span]]): the windows BERT reads.
    tokenizer_config (dict): settings of the Hugging Face tokenizer.
    transformer_config (dict): settings of the transformer's forward pass.
    mixed_precision (bool): kept for the fp32 config's sake; it does nothing here.
    grad_scaler_config (dict): as mixed_precision.
    threads (int): onnxruntime's intra-op threads; 0: onnxruntime's default (one per physical core).
    RETURNS (Model[List[Doc], "FullTransformerBatch"]): the transformer model.
    """
    from .onnx_shim import OnnxHFShim, init_onnx
    from .quantized_transformer import with_shim

    return with_shim(OnnxHFShim, init_onnx, name, get_spans, tokenizer_config, transformer_config, mixed_precision,
                     grad_scaler_config, threads=threads)
