"""The shim of `spacy_cluener.OnnxTransformerModel.v1`
(layers/onnx_transformer.py): spacy-transformers' HFShim whose module is an
onnxruntime session on BERT's int8 ONNX graph, which it saves and loads in
place of the torch weights; the tokenizer and config are HFShim's own."""
import tempfile
from io import BytesIO
from pathlib import Path

import srsly
import torch
from spacy_transformers.layers.hf_shim import HFShim
from spacy_transformers.layers.transformer_model import TransformerModel
from thinc.api import get_torch_default_device
from transformers import AutoModel
from transformers.modeling_outputs import BaseModelOutput

from ..errors import Errors
from .onnx_export import export_graph, quantize_graph
from .pytorch_int8 import check_cpu

# the key of the shim's msgpack that marks an ONNX state (absent: fp32 torch weights)
STATE_KEY = "spacy_cluener_onnx"
# Bumped when the saved state changes; a pipeline states the one it was saved with.
STATE_FORMAT = 1
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def import_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise ValueError(Errors.E080.format(package="onnxruntime")) from None
    return onnxruntime


def export_onnx(transformer: torch.nn.Module, path: Path) -> Path:
    """Write the ONNX graph of a loaded fp32 BERT to `path`: inputs
    input_ids, attention_mask, token_type_ids (batch and length dynamic);
    output its last hidden state, all the pipeline reads. Needs onnx."""
    try:
        import onnx  # noqa: F401 (the exporter needs it)
    except ImportError:
        raise ValueError(Errors.E080.format(package="onnx")) from None
    # eager attention: the graph then has plain MatMuls, which onnxruntime quantises
    eager = AutoModel.from_config(transformer.config, attn_implementation="eager").eval()
    eager.load_state_dict(transformer.state_dict())

    class LastHidden(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    ids = torch.ones((2, 16), dtype=torch.long)
    axes = {0: "batch", 1: "length"}
    return export_graph(LastHidden(eager), (ids, ids, torch.zeros_like(ids)), path, INPUTS, ["last_hidden_state"],
                        {**{name: axes for name in INPUTS}, "last_hidden_state": axes})


def export_int8(transformer: torch.nn.Module) -> bytes:
    """export_onnx's graph with its MatMul weights int8 (onnxruntime's
    dynamic quantisation, QInt8) and each token's activations quantised with
    their own range (`quantize_rows`: not the batch's, padding included, so a
    doc's hidden states do not depend on the docs batched with it), as bytes."""
    import_onnxruntime()
    with tempfile.TemporaryDirectory(prefix="spacy_cluener_onnx.") as tmp:
        fp32 = export_onnx(transformer, Path(tmp) / "bert.onnx")
        return quantize_graph(fp32, Path(tmp) / "bert.int8.onnx", per_row=True).read_bytes()


class OrtBert(torch.nn.Module):
    """BERT's last hidden states from an onnxruntime session, where the shim
    expects the torch module: `forward` takes what spacy-transformers passes."""

    def __init__(self, config, graph: bytes, threads: int = 0):
        super().__init__()
        self.config = config
        self.graph = graph
        self.set_threads(threads)

    def set_threads(self, threads: int) -> None:
        """A new session on `threads` intra-op threads (0: onnxruntime's default)."""
        ort = import_onnxruntime()
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.threads = threads
        self.session = ort.InferenceSession(self.graph, options, providers=["CPUExecutionProvider"])

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def __getstate__(self):
        # a session cannot be pickled or copied: the graph and threads make a new one
        state = self.__dict__.copy()
        state.pop("session", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self.set_threads(self.threads)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, **kwargs) -> BaseModelOutput:
        wanted = [key for key in ("output_hidden_states", "output_attentions") if kwargs.get(key)]
        if wanted:
            raise ValueError(Errors.E076.format(problem=f"its ONNX graph outputs the last hidden state only, and "
                                                        f"transformer_config asks for {', '.join(wanted)}"))
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        # the graph takes int64 (spacy-transformers may pass a float mask)
        feeds = {name: value.cpu().numpy().astype("int64")
                 for name, value in zip(INPUTS, (input_ids, attention_mask, token_type_ids))}
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return BaseModelOutput(last_hidden_state=torch.from_numpy(hidden))


class _EmptyModel:
    """`AutoModel` stand-in for HFShim's `from_bytes`: a module without weights
    (the ONNX graph replaces it right after)."""

    @staticmethod
    def from_config(config):
        module = torch.nn.Module()
        module.config = config
        return module


def _empty_state() -> bytes:
    filelike = BytesIO()
    torch.save({}, filelike)
    return filelike.getvalue()


def init_onnx(model: TransformerModel, X=None, Y=None) -> None:
    raise ValueError(Errors.E081)


class OnnxHFShim(HFShim):
    """HFShim whose module is an onnxruntime session (OrtBert); saves and loads
    the int8 ONNX graph; refuses updates (E079).

    threads (int): onnxruntime's intra-op threads (0: its default).
    """

    def __init__(self, *args, threads: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.threads = threads

    def set_threads(self, threads: int) -> None:
        """Run the session on `threads` intra-op threads from now on."""
        self.threads = threads
        if isinstance(self._model, OrtBert):
            self._model.set_threads(threads)

    def _use_graph(self, graph: bytes) -> None:
        ort = OrtBert(self._hfmodel.transformer.config, graph, self.threads)
        self._model = ort
        self._hfmodel.transformer = ort  # the torch weights, if any, can go

    def to_bytes(self) -> bytes:
        msg = srsly.msgpack_loads(super().to_bytes())
        if msg["config"]:
            msg["state"] = self._model.graph
            msg[STATE_KEY] = {"format": STATE_FORMAT, "weights": "int8",
                              "onnxruntime": import_onnxruntime().__version__}
        return srsly.msgpack_dumps(msg)

    def from_bytes(self, bytes_data: bytes) -> "OnnxHFShim":
        check_cpu(get_torch_default_device())
        import_onnxruntime()
        msg = srsly.msgpack_loads(bytes_data)
        saved = msg.pop(STATE_KEY, None)
        if saved is None:
            # fp32 torch weights (spacy.load(FP32_DIR, config=...), or quantize): export them
            super().from_bytes(bytes_data)
            if self._model is not None:
                self._use_graph(export_int8(self._model))
            return self
        if saved.get("format") != STATE_FORMAT:
            raise ValueError(Errors.E076.format(
                problem=f"its ONNX graph is saved in format {saved.get('format')!r} and this spacy-cluener reads "
                        f"format {STATE_FORMAT}; install the spacy-cluener version that made it, or quantize the "
                        "fp32 pipeline again"))
        graph, msg["state"] = msg["state"], _empty_state()
        self.model_cls = _EmptyModel
        try:
            super().from_bytes(srsly.msgpack_dumps(msg))
        finally:
            self.model_cls = AutoModel
        self._use_graph(graph)
        return self

    def begin_update(self, inputs):
        raise ValueError(Errors.E079)
