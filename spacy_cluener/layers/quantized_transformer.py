"""`spacy_cluener.QuantizedTransformerModel.v2` (and `.v1`): spacy-transformers'
`TransformerModel` whose BERT runs with int8 Linear weights on CPU.

The same arguments, spans, tokenizer, alignment and output
(`FullTransformerBatch`) as `spacy-transformers.TransformerModel.v3`, so the
transformer component, its listeners and the CRF head are unchanged; only the
torch module differs (layers/pytorch_int8.py). It is what `python -m
spacy_cluener quantize` writes into a pipeline's config: `spacy.load` and the
packaged wheel then build it through the entry point, and its shim reads the
int8 weights saved with it. The int8 module is made

- at load, from the saved int8 state (float16 input embeddings), or from an
  fp32 state saved by `TransformerModel.v1`-`v3` (so `spacy.load(FP32_DIR,
  config={"components.transformer.model.@architectures": ...})` quantises in
  memory, which is what `quantize` does before it saves);
- at initialize, after spacy-transformers has read the fp32 weights from `name`.

v2 adds `engine`, the int8 kernels the Linear layers are packed for at load
("auto": oneDNN on a CPU with int8 dot-product instructions, torch's default
engine elsewhere; pytorch_int8.resolve_engine). v1, what `quantize` wrote
before, packs them for whatever engine torch is set to.

Inference only: an update through it raises E079 (train the fp32 pipeline,
then quantize; a frozen int8 transformer that only annotates is fine).

This module registers the architecture without importing spacy-transformers
(a CNN pipeline's `import spacy_cluener` stays quick); hf_int8_shim.py holds
the shim and is imported when the model is built.
"""
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model

if TYPE_CHECKING:
    from spacy_transformers.data_classes import FullTransformerBatch

ARCHITECTURE = "spacy_cluener.QuantizedTransformerModel.v2"
# every version, for the checks that tell an int8 pipeline from an fp32 one
INT8_ARCHITECTURES = ("spacy_cluener.QuantizedTransformerModel.v1", ARCHITECTURE)
# the fp32 architectures whose saved weights and arguments it reads
FP32_ARCHITECTURES = (
    "spacy-transformers.TransformerModel.v1",
    "spacy-transformers.TransformerModel.v2",
    "spacy-transformers.TransformerModel.v3",
)
# the key of the shim's msgpack that marks an int8 state (absent: fp32)
STATE_KEY = "spacy_cluener_int8"


@registry.architectures(ARCHITECTURE)
def build_quantized_transformer_model_v2(
    name: str,
    get_spans: Callable,
    tokenizer_config: Optional[Dict[str, Any]] = None,
    transformer_config: Optional[Dict[str, Any]] = None,
    mixed_precision: bool = False,
    grad_scaler_config: Optional[Dict[str, Any]] = None,
    engine: str = "auto",
) -> Model[List[Doc], "FullTransformerBatch"]:
    """`spacy-transformers.TransformerModel.v3` with int8 Linear layers (CPU, inference).

    name (str): the fp32 weights read at initialize (a hub id or a local directory).
    get_spans (Callable[[List[Doc]], List[Span]]): the windows BERT reads.
    tokenizer_config (dict): settings of the Hugging Face tokenizer.
    transformer_config (dict): settings of the transformer's forward pass.
    mixed_precision (bool): kept for the fp32 config's sake; int8 runs on CPU, where it does nothing.
    grad_scaler_config (dict): as mixed_precision.
    engine (str): the int8 kernels: "auto", "x86", "fbgemm" or "onednn".
    RETURNS (Model[List[Doc], "FullTransformerBatch"]): the transformer model.
    """
    from .pytorch_int8 import resolve_engine

    resolve_engine(engine)  # an unknown or unsupported engine fails here, not at load
    return _build(name, get_spans, tokenizer_config, transformer_config, mixed_precision, grad_scaler_config,
                  engine)


@registry.architectures(INT8_ARCHITECTURES[0])
def build_quantized_transformer_model(
    name: str,
    get_spans: Callable,
    tokenizer_config: Optional[Dict[str, Any]] = None,
    transformer_config: Optional[Dict[str, Any]] = None,
    mixed_precision: bool = False,
    grad_scaler_config: Optional[Dict[str, Any]] = None,
) -> Model[List[Doc], "FullTransformerBatch"]:
    """As v2, with the int8 weights packed for torch's current engine."""
    return _build(name, get_spans, tokenizer_config, transformer_config, mixed_precision, grad_scaler_config, None)


def _build(name, get_spans, tokenizer_config, transformer_config, mixed_precision, grad_scaler_config,
           engine: Optional[str]) -> Model[List[Doc], "FullTransformerBatch"]:
    from .hf_int8_shim import Int8HFShim, init_int8

    return with_shim(Int8HFShim, init_int8, name, get_spans, tokenizer_config, transformer_config,
                     mixed_precision, grad_scaler_config, engine=engine)


def with_shim(shim_cls, init: Callable, name, get_spans, tokenizer_config, transformer_config, mixed_precision,
              grad_scaler_config, **shim_kwargs) -> Model[List[Doc], "FullTransformerBatch"]:
    """spacy-transformers' `TransformerModel` with its HFShim replaced by
    `shim_cls` (HFShim's own arguments, and `shim_kwargs`) and its init by `init`."""
    from spacy_transformers.layers.transformer_model import TransformerModel

    model = TransformerModel(
        name,
        get_spans,
        dict(tokenizer_config or {}),
        dict(transformer_config or {}),
        mixed_precision=mixed_precision,
        grad_scaler_config=dict(grad_scaler_config or {}),
    )
    wrapper = model.layers[0]
    old = wrapper.shims[0]
    # HFShim's arguments, as HFWrapper gave them; the shim's class is the one change
    wrapper.shims[0] = shim_cls(
        old._hfmodel,
        mixed_precision=mixed_precision,
        grad_scaler_config=dict(grad_scaler_config or {}),
        config_cls=old.config_cls,
        model_cls=old.model_cls,
        tokenizer_cls=old.tokenizer_cls,
        **shim_kwargs,
    )
    model.init = init
    return model
