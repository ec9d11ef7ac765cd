"""The CNN tok2vec as one ONNX graph, for one text at a time on CPU
(`spacy_cluener.ChunkedTok2Vec.v2`'s `onnx` setting).

One doc through thinc's layer tree costs a few dozen layer calls and numpy
calls on ~40-row arrays, more than its arithmetic (docs/speed.md). Here the
hash embeddings, the embedding Maxout and the CNN (`CharNgramEmbed` +
`MaxoutWindowEncoder.v2`) are rebuilt in torch from the model's own weights,
exported to ONNX and run by onnxruntime in one call. The features stay
numpy, computed by the model's own layers: the hashed rows of the character
tables and the lexicon's features. fp32 gives thinc's vectors to float32
rounding; "int8" adds onnxruntime's dynamic quantisation of the matrix
products (faster, a little less exact: docs/speed.md).

The graph is built from the weights at the first one-doc call and rebuilt
when the weight arrays change or after a training pass (a forward with
is_train=True), so it never serves stale weights. Nothing is saved with the
pipeline. Needs `pip install spacy-cluener[onnx]`.
"""
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple

import numpy
from spacy.tokens import Doc
from thinc.api import Model, NumpyOps
from thinc.types import Floats2d

from ..errors import Errors
from .onnx_export import export_graph, quantize_graph

MODES = ("off", "fp32", "int8")
# hashes per id in thinc's HashEmbed
N_HASHES = 4


def walk(model: Model) -> Iterator[Model]:
    yield model
    for layer in model.layers:
        yield from walk(layer)


def find(model: Model, name: str) -> List[Model]:
    """Every layer of `model` called `name`, depth first."""
    return [m for m in walk(model) if m.name == name]


def check_mode(mode: str) -> None:
    """E083 for an unknown mode; E082 when onnx or onnxruntime is missing."""
    if mode not in MODES:
        raise ValueError(Errors.E083.format(problem=f"onnx = {mode!r} is not one of {', '.join(map(repr, MODES))}"))
    if mode != "off":
        for package in ("onnxruntime", "onnx"):
            try:
                __import__(package)
            except ImportError:
                raise ValueError(Errors.E082.format(mode=mode, package=package)) from None


def check_structure(tok2vec: Model) -> None:
    """E083 unless `tok2vec` is CharNgramEmbed (4 tables, optional SoftLexicon)
    + MaxoutWindowEncoder, the layers the graph rebuilds."""
    tables = find(tok2vec, "hashembed")
    lexicons = find(tok2vec, "soft_lexicon")
    problems = []
    if not find(tok2vec, "char_ngram_features"):
        problems.append("its embed is not spacy_cluener.CharNgramEmbed")
    if len(tables) != 4 + len(lexicons):
        problems.append(f"it has {len(tables)} hash tables, not 4 character tables (+ 1 per lexicon)")
    if len(lexicons) > 1:
        problems.append("it has more than one SoftLexicon")
    encoders = [m for m in walk(tok2vec) if m.name.startswith("with_array(residual(expand_window>>maxout>>layernorm")]
    windows, maxouts, norms = (len(find(tok2vec, name)) for name in ("expand_window", "maxout", "layernorm"))
    if len(encoders) != 1 or not windows or maxouts != windows + 1 or norms != maxouts:
        problems.append("its encode is not spacy.MaxoutWindowEncoder (with a Maxout mixing the embeddings)")
    if problems:
        raise ValueError(Errors.E083.format(problem="; ".join(problems)))


def _weight_slots(tok2vec: Model) -> List[Tuple[Model, str]]:
    """(layer, param name) of every weight the graph copies, in a fixed order."""
    slots = [(m, "E") for m in find(tok2vec, "hashembed")]
    slots += [(m, name) for m in find(tok2vec, "maxout") for name in ("W", "b")]
    slots += [(m, name) for m in find(tok2vec, "layernorm") for name in ("G", "b")]
    return slots


def build_graph(tok2vec: Model):
    """The torch module of `tok2vec` after its features (keys, lexicon) -> vectors."""
    import torch

    tables = find(tok2vec, "hashembed")[:4]
    maxouts, norms = find(tok2vec, "maxout"), find(tok2vec, "layernorm")
    encoder = next(m for m in walk(tok2vec) if m.name.startswith("with_array(residual(expand_window"))
    pad, window = encoder.attrs.get("pad", 0), find(tok2vec, "expand_window")[0].attrs["window_size"]

    def parameters(arrays):
        return torch.nn.ParameterList([torch.nn.Parameter(torch.from_numpy(numpy.ascontiguousarray(a)))
                                       for a in arrays])

    class Tok2VecGraph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.E = torch.nn.Parameter(torch.from_numpy(numpy.concatenate([t.get_param("E") for t in tables])))
            self.W = parameters([m.get_param("W").reshape(-1, m.get_dim("nI")) for m in maxouts])
            self.b = parameters([m.get_param("b").reshape(-1) for m in maxouts])
            self.G = parameters([n.get_param("G") for n in norms])
            self.B = parameters([n.get_param("b") for n in norms])
            self.pieces = [m.get_dim("nP") for m in maxouts]

        def maxout_norm(self, i: int, X):
            # thinc's Maxout (W: nO x nP x nI) then LayerNorm (var + 1e-8)
            Y = (X @ self.W[i].T + self.b[i]).reshape(X.shape[0], -1, self.pieces[i]).max(dim=2).values
            mu = Y.mean(1, keepdim=True)
            var = ((Y - mu) ** 2).mean(1, keepdim=True) + 1e-8
            return (Y - mu) * var.rsqrt() * self.G[i] + self.B[i]

        def forward(self, keys, lexicon):
            n = keys.shape[0]
            X = self.E[keys].reshape(n, len(tables), N_HASHES, -1).sum(2).reshape(n, -1)
            X = self.maxout_norm(0, torch.cat([X, lexicon], 1))
            # MaxoutWindowEncoder's with_array(pad=...): zero rows around the doc,
            # which the layers transform too; expand_window pads with zeros again
            X = torch.nn.functional.pad(X, (0, 0, pad, pad))
            for i in range(1, len(self.W)):
                P = torch.nn.functional.pad(X, (0, 0, window, window))
                m = X.shape[0]
                X = X + self.maxout_norm(i, torch.cat([P[k:k + m] for k in range(2 * window + 1)], 1))
            return X[pad:X.shape[0] - pad]

    return Tok2VecGraph().eval()


def feature_fn(tok2vec: Model) -> Callable[[Doc], Tuple[numpy.ndarray, numpy.ndarray]]:
    """doc -> (keys, lexicon features): the graph's inputs, from the model's own layers."""
    tables = find(tok2vec, "hashembed")[:4]
    features = find(tok2vec, "char_ngram_features")[0]
    lexicons = find(tok2vec, "soft_lexicon")
    rows = [t.get_param("E").shape[0] for t in tables]
    offsets = numpy.cumsum([0] + rows)[:-1]
    seeds = [t.attrs["seed"] for t in tables]
    ops = tok2vec.ops

    def run(doc: Doc):
        (ids,) = features.predict([doc])
        keys = [ops.hash(ops.as_contig(ids[:, i]), seeds[i]) % rows[i] + offsets[i] for i in range(len(tables))]
        keys = numpy.concatenate(keys, axis=1).astype("int64")
        lexicon = lexicons[0].predict([doc])[0] if lexicons else numpy.zeros((len(doc), 0), dtype="float32")
        return keys, numpy.ascontiguousarray(lexicon, dtype="float32")

    return run


def export(tok2vec: Model, mode: str, example: Doc) -> bytes:
    """The ONNX graph of `tok2vec` (int8 MatMuls for mode "int8"), as bytes."""
    import torch

    keys, lexicon = feature_fn(tok2vec)(example)
    with tempfile.TemporaryDirectory(prefix="spacy_cluener_tok2vec.") as tmp:
        path = export_graph(build_graph(tok2vec), (torch.from_numpy(keys), torch.from_numpy(lexicon)),
                            Path(tmp) / "tok2vec.onnx", ["keys", "lexicon"], ["vectors"],
                            {"keys": {0: "n"}, "lexicon": {0: "n"}, "vectors": {0: "n"}})
        if mode == "int8":
            path = quantize_graph(path, Path(tmp) / "int8.onnx")
        return path.read_bytes()


class CompiledTok2Vec:
    """The graph of one tok2vec model and the weights it was built from."""

    def __init__(self, tok2vec: Model, mode: str, example: Doc):
        import onnxruntime

        # the layers are found once: walking the tree on every call costs more than the graph saves
        self.slots = _weight_slots(tok2vec)
        self.weights = [layer.get_param(name) for layer, name in self.slots]
        options = onnxruntime.SessionOptions()
        # one doc is too little work to share: the caller's thread, as thinc does
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self.graph = export(tok2vec, mode, example)
        self.session = onnxruntime.InferenceSession(self.graph, options, providers=["CPUExecutionProvider"])
        self.features = feature_fn(tok2vec)

    def is_current(self) -> bool:
        """Whether every weight array is still the one the graph was built from."""
        return all(layer.get_param(name) is array for (layer, name), array in zip(self.slots, self.weights))

    def __call__(self, doc: Doc) -> Floats2d:
        keys, lexicon = self.features(doc)
        return self.session.run(None, {"keys": keys, "lexicon": lexicon})[0]


# model id (never reused) -> its compiled graph, for the few models used last:
# thinc models take no weak references, and a pipeline that is dropped should
# not keep its graph alive for long
_COMPILED: "OrderedDict[int, CompiledTok2Vec]" = OrderedDict()
MAX_COMPILED = 4
# one pipeline may serve several threads: the cache's bookkeeping is theirs to share
_LOCK = threading.Lock()


def predict_one(model: Model, doc: Doc, mode: str) -> Optional[Floats2d]:
    """`doc`'s vectors from the graph of `model` (built or rebuilt as needed),
    or None where the graph does not apply (GPU ops, an empty doc)."""
    if not isinstance(model.ops, NumpyOps) or len(doc) == 0:
        return None
    with _LOCK:
        compiled = _COMPILED.get(model.id)
        if compiled is None or not compiled.is_current():
            compiled = _COMPILED[model.id] = CompiledTok2Vec(model, mode, doc)
            while len(_COMPILED) > MAX_COMPILED:
                _COMPILED.popitem(last=False)
        _COMPILED.move_to_end(model.id)
    return compiled(doc)  # onnxruntime sessions run concurrently


def forget(model: Model) -> None:
    """Drop `model`'s graph (a training pass is about to change its weights in place)."""
    with _LOCK:
        _COMPILED.pop(model.id, None)
