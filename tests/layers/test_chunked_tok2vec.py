"""spacy_cluener.ChunkedTok2Vec.v1: a long doc predicted window by window
gets the vectors of the whole doc; training, and docs of at most chunk_size
tokens, are exactly the wrapped model; the layer tree (and so every weights
file) is spacy.Tok2Vec.v2's."""
import random

import numpy
import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import fix_random_seed

from spacy_cluener.layers.chunked_tok2vec import windows, with_chunks

from ..util import spy_embed

EMBED = {"@architectures": "spacy_cluener.CharNgramEmbed.v1", "width": 32, "embed_width": 16,
         "char_rows": 1000, "bigram_rows": 1000}
ENCODE = {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 32, "depth": 2, "window_size": 2,
          "maxout_pieces": 3}
# How far a token's vector sees: 1 (its bigrams) + window_size x depth.
FIELD = 1 + 2 * 2
CHARS = "张三李四王五在上海北京广州工作腾讯的工程师我爱天安门。，、《》abcXYZ0123456789 \n"


def build(architecture: str, seed: int = 0, docs=None, **settings):
    """The model, initialized on `docs` (if given) right after seeding."""
    fix_random_seed(seed)
    config = {"@architectures": architecture, "embed": dict(EMBED), "encode": dict(ENCODE), **settings}
    model = registry.resolve({"model": config})["model"]
    if docs is not None:
        model.initialize(X=docs)
    return model


def make_docs(nlp, lengths, seed: int = 0):
    """Docs of exactly these many tokens (one per character, spaces included)."""
    rng = random.Random(seed)
    return [Doc(nlp.vocab, words=[rng.choice(CHARS) for _ in range(n)], spaces=[False] * n) for n in lengths]


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("zh")


@pytest.fixture(scope="module")
def tok2vec(nlp):
    """spacy.Tok2Vec.v2 of the CNN config's kind (narrow), initialized."""
    return build("spacy.Tok2Vec.v2", docs=make_docs(nlp, [20, 30]))


@settings(max_examples=300, deadline=None)
@given(length=st.integers(0, 3000), chunk_size=st.integers(1, 400), overlap=st.integers(0, 100))
def test_windows_tile_the_doc_with_context(length, chunk_size, overlap):
    if chunk_size <= 2 * overlap:
        return
    kept_end = 0
    for start, end, keep_start, keep_end in windows(length, chunk_size, overlap):
        assert keep_start == kept_end
        assert 0 <= start <= keep_start < keep_end <= end <= length
        assert end - start <= chunk_size
        assert start == 0 or keep_start - start >= overlap
        assert end == length or end - keep_end >= overlap
        kept_end = keep_end
    assert kept_end == length


@pytest.mark.parametrize("chunk_size,overlap", [(4096, 64), (256, 64), (64, FIELD), (11, FIELD)])
def test_long_docs_get_the_vectors_of_the_whole_doc(nlp, tok2vec, chunk_size, overlap):
    chunked = with_chunks(tok2vec, chunk_size, overlap)
    docs = make_docs(nlp, [1500, 0, 7, 5000 if chunk_size > 100 else 600, chunk_size, chunk_size + 1], seed=chunk_size)
    expected = [tok2vec.predict([doc])[0] for doc in docs]
    for got, want in zip(chunked.predict(docs), expected):
        assert got.shape == want.shape and got.dtype == want.dtype
        # Same floats up to float32 rounding (on this project's CPU they are equal).
        numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_an_overlap_below_the_receptive_field_changes_vectors(nlp, tok2vec):
    # What the test above would catch: a window edge inside a token's field.
    doc = make_docs(nlp, [600])[0]
    chunked = with_chunks(tok2vec, 64, FIELD - 1)
    assert numpy.abs(chunked.predict([doc])[0] - tok2vec.predict([doc])[0]).max() > 1e-3


def test_the_wrapped_model_sees_windows_of_at_most_chunk_size(nlp, tok2vec):
    chunked = with_chunks(tok2vec, 256, 64)
    short, long = make_docs(nlp, [30, 100]), make_docs(nlp, [2000])
    calls, restore = spy_embed(chunked)
    try:
        chunked.predict(short)
        assert calls == [[30, 100]]  # short docs: one call, as without the wrapper
        del calls[:]
        chunked.predict(short + long)
        assert calls[0] == [30, 100]
        windowed = [n for call in calls[1:] for n in call]
        assert len(windowed) > 1 and max(windowed) <= 256
        assert sum(windowed) == 2000 + 2 * 64 * (len(windowed) - 1)
    finally:
        restore()


def test_training_is_the_wrapped_model(nlp, tok2vec):
    chunked = with_chunks(tok2vec, 64, FIELD)
    docs = make_docs(nlp, [500, 40])
    calls, restore = spy_embed(chunked)
    try:
        vectors, backprop = chunked(docs, is_train=True)
    finally:
        restore()
    assert calls == [[500, 40]]  # the whole docs, at once
    want, want_backprop = tok2vec(docs, is_train=True)
    for got, expected in zip(vectors, want):
        assert numpy.array_equal(got, expected)
    d_vectors = [numpy.ones_like(v) for v in vectors]
    assert backprop(d_vectors) == want_backprop(d_vectors) == []


def test_no_gradient_for_a_windowed_prediction(nlp, tok2vec):
    _, backprop = with_chunks(tok2vec, 64, FIELD)(make_docs(nlp, [200]), is_train=False)
    with pytest.raises(ValueError, match="E038"):
        backprop([])


def test_same_layer_tree_and_weights_as_tok2vec_v2(nlp):
    docs = make_docs(nlp, [25, 40])
    plain = build("spacy.Tok2Vec.v2", seed=3, docs=docs)
    chunked = build("spacy_cluener.ChunkedTok2Vec.v1", seed=3, docs=docs, chunk_size=64, overlap=FIELD)
    assert chunked.name == plain.name and chunked.ref_names == plain.ref_names
    assert chunked.get_dim("nO") == plain.get_dim("nO") == 32
    assert chunked.to_bytes() == plain.to_bytes()
    # Weights saved from either (a pipeline, `spacy pretrain`) load into the other.
    other = build("spacy_cluener.ChunkedTok2Vec.v1", seed=4, docs=docs, chunk_size=64, overlap=FIELD)
    other.from_bytes(plain.to_bytes())
    long = make_docs(nlp, [300])
    numpy.testing.assert_allclose(other.predict(long)[0], plain.predict(long)[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("chunk_size,overlap", [(128, 64), (100, 64), (10, -1), (0, 0)])
def test_chunk_size_must_leave_a_centre(chunk_size, overlap):
    with pytest.raises(ValueError, match="E037"):
        build("spacy_cluener.ChunkedTok2Vec.v1", chunk_size=chunk_size, overlap=overlap)
