"""`spacy_cluener.ChunkedTok2Vec.v1`: spaCy's `Tok2Vec.v2` that predicts long
docs in overlapping windows, so their memory does not grow with their length.

Why: thinc's `chain` keeps each layer's backprop closure, and with it each
intermediate array, until the whole chain returns, at prediction time too;
for one 200,000-character doc that is about 1 GB per `MaxoutWindowEncoder`
layer (docs/errors.md, "Memory on long documents"). A token's vector depends only on
the tokens within the encoder's receptive field (character bigrams: 1 on each
side; the CNN: window_size x depth), so running windows of at most
`chunk_size` tokens that overlap by `overlap` tokens on each side, and keeping
each window's centre, gives the vectors of the whole doc (equal to float32
rounding; tested) with memory bounded by the window.

A window is `doc[start:end].as_doc()`: it has the tokens with their
attributes (ORTH, SHAPE, NORM, ...) and text, but no `._` extension values
or other `doc.user_data`, so the embed layer must compute its features from
the tokens (as `CharNgramEmbed` and a lexicon matched on the text do).

In training (`is_train=True`), and for docs of at most `chunk_size` tokens,
the model is exactly the one it wraps. `with_chunks` returns the wrapped
model's own layer tree with another forward at its root (same nodes, refs,
dims and weights, nothing added), so training is unchanged and weights load
either way: a `spacy pretrain` file or a tok2vec saved with `spacy.Tok2Vec.v2`.
"""
from functools import partial
from typing import Callable, Iterator, List, Tuple

from spacy.ml.models.tok2vec import build_Tok2Vec_model
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model
from thinc.types import Floats2d

from ..errors import Errors

InT = List[Doc]
OutT = List[Floats2d]


@registry.architectures("spacy_cluener.ChunkedTok2Vec.v3")
def build_chunked_tok2vec_v3(
    embed: Model[InT, OutT],
    encode: Model[OutT, OutT],
    chunk_size: int = 4096,
    overlap: int = 64,
    onnx: str = "off",
) -> Model[InT, OutT]:
    """v1, and `onnx`: "fp32" or "int8" runs every batch at prediction, one
    doc (`nlp(text)`) or many (`nlp.pipe`), through one ONNX Runtime graph
    built from the weights (layers/onnx_tok2vec.py; needs
    spacy-cluener[onnx]); "off" is v1. Docs longer than `chunk_size` and
    training stay thinc's.
    """
    return _build_onnx(embed, encode, chunk_size, overlap, onnx, batches=True)


@registry.architectures("spacy_cluener.ChunkedTok2Vec.v2")
def build_chunked_tok2vec_v2(
    embed: Model[InT, OutT],
    encode: Model[OutT, OutT],
    chunk_size: int = 4096,
    overlap: int = 64,
    onnx: str = "off",
) -> Model[InT, OutT]:
    """v3 for a batch of one doc (`nlp(text)`) only: batches of several docs
    stay thinc's."""
    return _build_onnx(embed, encode, chunk_size, overlap, onnx, batches=False)


def _build_onnx(embed: Model[InT, OutT], encode: Model[OutT, OutT], chunk_size: int, overlap: int, onnx: str,
                batches: bool) -> Model[InT, OutT]:
    from .onnx_tok2vec import check_mode, check_structure

    check_mode(onnx)
    tok2vec = build_Tok2Vec_model(embed, encode)
    if onnx != "off":
        check_structure(tok2vec)
    return with_chunks(tok2vec, chunk_size, overlap, onnx=onnx, onnx_batches=batches)


@registry.architectures("spacy_cluener.ChunkedTok2Vec.v1")
def build_chunked_tok2vec(
    embed: Model[InT, OutT],
    encode: Model[OutT, OutT],
    chunk_size: int = 4096,
    overlap: int = 64,
) -> Model[InT, OutT]:
    """`spacy.Tok2Vec.v2` (same `embed` and `encode` blocks) that predicts
    docs longer than `chunk_size` tokens window by window.

    chunk_size (int): the most tokens the encoder sees at once at prediction.
    overlap (int): context tokens on each side of a window's kept centre. It
        must cover the receptive field: 1 + window_size x depth (9 in
        configs/cnn_crf.cfg); 64 leaves room for wider features, such as a
        lexicon matching words of up to 16 characters.
    RETURNS (Model[List[Doc], List[Floats2d]]): the token vectors.
    """
    return with_chunks(build_Tok2Vec_model(embed, encode), chunk_size, overlap)


def with_chunks(tok2vec: Model[InT, OutT], chunk_size: int, overlap: int, onnx: str = "off",
                onnx_batches: bool = False) -> Model[InT, OutT]:
    """The layer tree of `tok2vec` with a root that predicts long docs in
    windows (see the module docstring), and, if `onnx` is not "off", the
    other docs through an ONNX graph at prediction: a batch of one doc, or
    with `onnx_batches` every batch. `tok2vec` itself is not changed; use the
    returned model in its place."""
    if overlap < 0 or chunk_size <= 2 * overlap:
        raise ValueError(Errors.E037.format(chunk_size=chunk_size, overlap=overlap))
    forward = partial(_forward, inner=tok2vec._func, chunk_size=chunk_size, overlap=overlap, onnx=onnx,
                      onnx_batches=onnx_batches)
    return Model(
        tok2vec.name,
        forward,
        init=tok2vec.init,
        dims={name: tok2vec.maybe_get_dim(name) for name in tok2vec.dim_names},
        params={name: tok2vec.get_param(name) if tok2vec.has_param(name) else None
                for name in tok2vec.param_names},
        layers=list(tok2vec.layers),
        shims=list(tok2vec.shims),
        attrs=dict(tok2vec.attrs),
        refs={name: tok2vec.get_ref(name) for name in tok2vec.ref_names if tok2vec.has_ref(name)},
    )


def windows(length: int, chunk_size: int, overlap: int) -> Iterator[Tuple[int, int, int, int]]:
    """(start, end, keep_start, keep_end) of each window of a doc: the window
    is tokens [start, end), at most chunk_size of them; its vectors for
    [keep_start, keep_end) are kept. The kept parts tile the doc, and each
    has `overlap` tokens of context on both sides, except at the doc's ends."""
    keep_start = 0
    while keep_start < length:
        start = max(0, keep_start - overlap)
        end = min(length, start + chunk_size)
        keep_end = length if end == length else end - overlap
        yield start, end, keep_start, keep_end
        keep_start = keep_end


def _forward(model: Model[InT, OutT], docs: InT, is_train: bool, *, inner: Callable,
             chunk_size: int, overlap: int, onnx: str = "off", onnx_batches: bool = False) -> Tuple[OutT, Callable]:
    graph_vectors = None
    if onnx != "off":
        from . import onnx_tok2vec

        if is_train:
            onnx_tok2vec.forget(model)  # the update after this pass changes the weights in place
        elif onnx_batches or len(docs) == 1:
            # None where the graph does not apply (GPU ops, no short doc with a token)
            graph_vectors = onnx_tok2vec.predict(model, [doc for doc in docs if len(doc) <= chunk_size], onnx)
    if graph_vectors is None and (is_train or all(len(doc) <= chunk_size for doc in docs)):
        return inner(model, docs, is_train)
    short_vectors = graph_vectors
    if short_vectors is None:
        short = [doc for doc in docs if len(doc) <= chunk_size]
        short_vectors = inner(model, short, False)[0] if short else []
    found = iter(short_vectors)
    vectors = [
        _predict_long(model, doc, inner, chunk_size, overlap) if len(doc) > chunk_size else next(found)
        for doc in docs
    ]
    return vectors, _no_backprop


def _predict_long(model: Model, doc: Doc, inner: Callable, chunk_size: int, overlap: int) -> Floats2d:
    """One doc's vectors, one window at a time: only the window's
    intermediates (and the doc's output) are alive at once."""
    output = None
    for start, end, keep_start, keep_end in windows(len(doc), chunk_size, overlap):
        (vectors,), _ = inner(model, [doc[start:end].as_doc()], False)
        if output is None:
            output = model.ops.alloc((len(doc), vectors.shape[1]), dtype=vectors.dtype)
        output[keep_start:keep_end] = vectors[keep_start - start : keep_end - start]
    return output


def _no_backprop(d_vectors: OutT) -> InT:
    raise ValueError(Errors.E038)
