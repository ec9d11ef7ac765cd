"""The shim of `spacy_cluener.QuantizedTransformerModel.v1` / `.v2`
(layers/quantized_transformer.py): spacy-transformers' HFShim that saves and
loads int8 weights (layers/pytorch_int8.py), and the model's init."""
import contextlib
import warnings
from typing import Optional

import srsly
from spacy_transformers.layers.hf_shim import HFShim
from spacy_transformers.layers.transformer_model import TransformerModel
from spacy_transformers.layers.transformer_model import init as transformer_init
from thinc.api import get_torch_default_device
from transformers import AutoModel

from ..errors import Errors
from .pytorch_int8 import (
    STATE_FORMAT,
    check_cpu,
    check_int8_available,
    is_quantized,
    quantize_linear,
    quantized_engine,
    state_to_bytes,
)

# the key of the shim's msgpack that marks an int8 state (absent: fp32)
STATE_KEY = "spacy_cluener_int8"


def init_int8(model: TransformerModel, X=None, Y=None) -> None:
    """spacy-transformers' init (fp32 weights from `name`), then int8."""
    check_int8_available()
    check_cpu(get_torch_default_device())
    transformer_init(model, X=X, Y=Y)
    shim = model.layers[0].shims[0]
    if not is_quantized(shim._model):
        quantize_linear(shim._model, shim.engine)


class _Int8AutoModel:
    """`AutoModel` whose `from_config` returns the int8 module, for HFShim's
    `from_bytes` to load an int8 state into."""

    @staticmethod
    def from_config(config):
        return quantize_linear(AutoModel.from_config(config))


class Int8HFShim(HFShim):
    """HFShim that saves and loads int8 weights; refuses updates (E079).

    engine (Optional[str]): the int8 kernels its Linear layers are packed for
    when they are made or loaded (pytorch_int8.ENGINES); None: torch's current
    engine, as QuantizedTransformerModel.v1 did.
    """

    def __init__(self, *args, engine: Optional[str] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.engine = engine

    def to_bytes(self) -> bytes:
        msg = srsly.msgpack_loads(super().to_bytes())
        if msg["config"]:
            # HFShim saved the int8 state as it is; the same, input embeddings in float16
            msg["state"] = state_to_bytes(self._model)
            msg[STATE_KEY] = {"format": STATE_FORMAT, "linear": "qint8", "input_embeddings": "float16"}
        return srsly.msgpack_dumps(msg)

    def from_bytes(self, bytes_data: bytes) -> "Int8HFShim":
        check_int8_available()
        check_cpu(get_torch_default_device())
        msg = srsly.msgpack_loads(bytes_data)
        int8 = msg.pop(STATE_KEY, None)
        if int8 is not None and int8.get("format") != STATE_FORMAT:
            raise ValueError(Errors.E076.format(
                problem=f"its int8 weights are saved in format {int8.get('format')!r} and this spacy-cluener "
                        f"reads format {STATE_FORMAT}; install the spacy-cluener version that quantized it, "
                        "or quantize the fp32 pipeline again"))
        self.model_cls = _Int8AutoModel if int8 is not None else AutoModel
        # the int8 Linear layers are packed as the state loads into them, for the engine in force
        packing = quantized_engine(self.engine) if self.engine is not None else contextlib.nullcontext()
        try:
            # the int8 module is built first and loads the saved int8 state (the
            # float16 embeddings are cast by load_state_dict's copy_); an fp32
            # state loads into the fp32 module, quantised right after
            with packing, warnings.catch_warnings():
                # torch.load rebuilds quantised tensors through TypedStorage and says so
                warnings.filterwarnings("ignore", message=r"TypedStorage is deprecated")
                super().from_bytes(srsly.msgpack_dumps(msg) if int8 is not None else bytes_data)
        finally:
            self.model_cls = AutoModel
        if self._model is not None and not is_quantized(self._model):
            quantize_linear(self._model, self.engine)
        return self

    def begin_update(self, inputs):
        raise ValueError(Errors.E079)
