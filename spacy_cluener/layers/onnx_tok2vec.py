"""The CNN tok2vec as one ONNX graph on the CPU (`spacy_cluener.ChunkedTok2Vec`'s
`onnx` setting: v2 for one text at a time, v3 for every batch).

One doc through thinc's layer tree costs a few dozen layer calls and numpy
calls on ~40-row arrays, more than its arithmetic; a batch, thinc's matrix
products and the intermediate arrays each layer keeps (docs/speed.md). Here
the hash embeddings, the embedding Maxout and the CNN (`CharNgramEmbed` +
`MaxoutWindowEncoder.v2`) are rebuilt in torch from the model's own weights,
exported to ONNX and run by onnxruntime in one call per batch. The features
stay numpy, computed by the model's own layers: the hashed rows of the
character tables and the lexicon's features. The docs of a batch are laid
out as thinc's `with_array(pad=...)` lays them out (zero rows before each
doc and after the last), so each doc's vectors are those it gets alone.
fp32 gives thinc's vectors to float32 rounding; "int8" adds onnxruntime's
dynamic quantisation of the matrix products (faster, a little less exact:
docs/speed.md).

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
    """The torch module of `tok2vec` after its features: (keys, lexicon,
    layout) -> the vectors of every row of `layout` (see `layout`)."""
    import torch

    tables = find(tok2vec, "hashembed")[:4]
    maxouts, norms = find(tok2vec, "maxout"), find(tok2vec, "layernorm")
    window = find(tok2vec, "expand_window")[0].attrs["window_size"]

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

        def forward(self, keys, lexicon, layout):
            n = keys.shape[0]
            X = self.E[keys].reshape(n, len(tables), N_HASHES, -1).sum(2).reshape(n, -1)
            X = self.maxout_norm(0, torch.cat([X, lexicon], 1))
            # MaxoutWindowEncoder's with_array(pad=...): `pad` zero rows before
            # each doc and after the last (`layout` picks them from a zero row
            # after X), which the layers transform too; expand_window pads
            # the whole array with zeros again
            X = torch.cat([X, X.new_zeros(1, X.shape[1])])[layout]
            for i in range(1, len(self.W)):
                P = torch.nn.functional.pad(X, (0, 0, window, window))
                m = X.shape[0]
                X = X + self.maxout_norm(i, torch.cat([P[k:k + m] for k in range(2 * window + 1)], 1))
            return X

    return Tok2VecGraph().eval()


def encoder_pad(tok2vec: Model) -> int:
    """The zero rows MaxoutWindowEncoder's with_array puts around each doc."""
    encoder = next(m for m in walk(tok2vec) if m.name.startswith("with_array(residual(expand_window"))
    return int(encoder.attrs.get("pad", 0))


def layout(lengths: List[int], pad: int) -> numpy.ndarray:
    """The graph's row order: for each non-empty doc `pad` zero rows (index
    sum(lengths), the zero row after the features' rows) and its rows, then
    `pad` zero rows: thinc's `ops.flatten(Xs, pad=pad)`."""
    zero = sum(lengths)
    parts, offset = [], 0
    for length in lengths:
        if length:
            parts.append(numpy.full(pad, zero, dtype="int64"))
            parts.append(numpy.arange(offset, offset + length, dtype="int64"))
            offset += length
    parts.append(numpy.full(pad, zero, dtype="int64"))
    return numpy.concatenate(parts)


def feature_fn(tok2vec: Model) -> Callable[[List[Doc]], Tuple[numpy.ndarray, numpy.ndarray]]:
    """docs -> (keys, lexicon features) of their tokens one after another:
    the graph's inputs, from the model's own layers."""
    tables = find(tok2vec, "hashembed")[:4]
    features = find(tok2vec, "char_ngram_features")[0]
    lexicons = find(tok2vec, "soft_lexicon")
    rows = [t.get_param("E").shape[0] for t in tables]
    offsets = numpy.cumsum([0] + rows)[:-1]
    seeds = [t.attrs["seed"] for t in tables]
    ops = tok2vec.ops

    def run(docs: List[Doc]):
        per_doc = features.predict(docs)
        ids = per_doc[0] if len(per_doc) == 1 else numpy.concatenate(per_doc)
        keys = [ops.hash(ops.as_contig(ids[:, i]), seeds[i]) % rows[i] + offsets[i] for i in range(len(tables))]
        keys = numpy.concatenate(keys, axis=1).astype("int64")
        if lexicons:
            per_doc = lexicons[0].predict(docs)
            lexicon = per_doc[0] if len(per_doc) == 1 else numpy.concatenate(per_doc)
        else:
            lexicon = numpy.zeros((len(keys), 0), dtype="float32")
        return keys, numpy.ascontiguousarray(lexicon, dtype="float32")

    return run


def export(tok2vec: Model, mode: str, example: Doc) -> bytes:
    """The ONNX graph of `tok2vec` (int8 MatMuls for mode "int8"), as bytes."""
    import torch

    keys, lexicon = feature_fn(tok2vec)([example])
    rows = torch.from_numpy(layout([len(example)], encoder_pad(tok2vec)))
    with tempfile.TemporaryDirectory(prefix="spacy_cluener_tok2vec.") as tmp:
        path = export_graph(build_graph(tok2vec), (torch.from_numpy(keys), torch.from_numpy(lexicon), rows),
                            Path(tmp) / "tok2vec.onnx", ["keys", "lexicon", "layout"], ["vectors"],
                            {"keys": {0: "n"}, "lexicon": {0: "n"}, "layout": {0: "m"}, "vectors": {0: "m"}})
        if mode == "int8":
            # each row on its own: a doc's vectors do not depend on its batch
            path = quantize_graph(path, Path(tmp) / "int8.onnx", per_row=True)
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
        self.pad = encoder_pad(tok2vec)
        self.ops = tok2vec.ops

    def is_current(self) -> bool:
        """Whether every weight array is still the one the graph was built from."""
        return all(layer.get_param(name) is array for (layer, name), array in zip(self.slots, self.weights))

    def __call__(self, docs: List[Doc]) -> List[Floats2d]:
        """The vectors of each doc (at least one token among them)."""
        lengths = [len(doc) for doc in docs]
        keys, lexicon = self.features(docs)
        rows = layout(lengths, self.pad)
        vectors = self.session.run(None, {"keys": keys, "lexicon": lexicon, "layout": rows})[0]
        return self.ops.unflatten(vectors, lengths, pad=self.pad)


# model id (never reused) -> its compiled graph, for the few models used last:
# thinc models take no weak references, and a pipeline that is dropped should
# not keep its graph alive for long
_COMPILED: "OrderedDict[int, CompiledTok2Vec]" = OrderedDict()
MAX_COMPILED = 4
# one pipeline may serve several threads: the cache's bookkeeping is theirs to share
_LOCK = threading.Lock()


def predict(model: Model, docs: List[Doc], mode: str) -> Optional[List[Floats2d]]:
    """The vectors of `docs` from the graph of `model` (built or rebuilt as
    needed), or None where the graph does not apply (GPU ops, no tokens)."""
    if not isinstance(model.ops, NumpyOps) or not any(len(doc) for doc in docs):
        return None
    with _LOCK:
        compiled = _COMPILED.get(model.id)
        if compiled is None or not compiled.is_current():
            example = next(doc for doc in docs if len(doc))
            compiled = _COMPILED[model.id] = CompiledTok2Vec(model, mode, example)
            while len(_COMPILED) > MAX_COMPILED:
                _COMPILED.popitem(last=False)
        _COMPILED.move_to_end(model.id)
    return compiled(docs)  # onnxruntime sessions run concurrently


def forget(model: Model) -> None:
    """Drop `model`'s graph (a training pass is about to change its weights in place)."""
    with _LOCK:
        _COMPILED.pop(model.id, None)
