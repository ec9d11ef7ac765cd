"""The numpy Viterbi (CPU decoding of few docs) gives exactly the tag ids of
the torch one, and crf_ner decodes the same whichever runs; the emission
layer's CPU prediction path gives the wrapper's emissions."""
import numpy
import pytest
import torch

from spacy_cluener.layers import crf_batch
from spacy_cluener.layers.crf_batch import crf_parameters
from spacy_cluener.layers.pytorch_crf import FORBIDDEN, EmissionCRF, viterbi_decode
from spacy_cluener.layers.viterbi import viterbi
from spacy_cluener.tag_schemes import tag_names

from ..util import TRAIN_DATA, train_small_cnn, train_small_crf

LABELS = ["address", "book", "company", "scene"]


def random_crf(scheme: str, seed: int) -> EmissionCRF:
    torch.manual_seed(seed)
    module = EmissionCRF(4, tag_names(LABELS, scheme), scheme)
    with torch.no_grad():
        for name in ("transitions", "start_transitions", "end_transitions"):
            module.crf.parametrizations[name].original.normal_()
    return module


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shape", ["ragged", "equal", "one", "one char"])
def test_numpy_viterbi_equals_torch(scheme, seed, shape):
    module = random_crf(scheme, seed)
    n_tags = len(module.init_args["tag_names"])
    rng = numpy.random.default_rng(seed)
    batch, length = {"one": (1, 23), "one char": (1, 1)}.get(shape, (7, 31))
    lengths = rng.integers(1, length + 1, size=batch) if shape == "ragged" else numpy.full(batch, length)
    lengths[0] = length
    emissions = (rng.normal(size=(batch, length, n_tags)) * 4).astype("float32")
    # some positions restricted, as presets and whitespace restrict them
    emissions[rng.random(emissions.shape) < 0.2] = FORBIDDEN
    mask = torch.arange(length)[None, :] < torch.from_numpy(lengths)[:, None]
    expected = module.decode(torch.from_numpy(emissions), mask).numpy()
    got = viterbi(emissions, lengths, *crf_parameters(module))
    assert got.dtype == numpy.int64
    numpy.testing.assert_array_equal(got, expected)


def test_numpy_viterbi_ties_take_the_first_tag_as_torch():
    """All-zero scores (an untrained head) tie everywhere: both take tag 0, 'O'."""
    emissions = numpy.zeros((2, 5, 9), dtype="float32")
    lengths = numpy.array([5, 3])
    zeros = numpy.zeros((9,), dtype="float32")
    got = viterbi(emissions, lengths, zeros, zeros, numpy.zeros((9, 9), dtype="float32"))
    mask = torch.arange(5)[None, :] < torch.from_numpy(lengths)[:, None]
    expected = viterbi_decode(torch.from_numpy(emissions), mask, *(torch.from_numpy(a) for a in (zeros, zeros,
                              numpy.zeros((9, 9), dtype="float32"))))
    numpy.testing.assert_array_equal(got, expected.numpy())
    assert not got.any()


@pytest.mark.parametrize("scores", [False, True])
def test_crf_ner_decodes_the_same_with_numpy_and_torch_viterbi(monkeypatch, scores):
    nlp = train_small_crf(15, scores=scores)
    texts = [text for text, _ in TRAIN_DATA] + ["张三在广州的腾讯工作", "", "  李四  ", "北京"]

    def predict():
        docs = list(nlp.pipe(texts, batch_size=4))
        key = nlp.get_pipe("crf_ner").spans_key
        return [([(e.start, e.end, e.label_) for e in d.ents],
                 list(d.spans[key].attrs.get("scores", [])) if key in d.spans else None) for d in docs]

    monkeypatch.setattr(crf_batch, "NUMPY_VITERBI_MAX_DOCS", 0)
    with_torch = predict()
    monkeypatch.setattr(crf_batch, "NUMPY_VITERBI_MAX_DOCS", 10**6)
    with_numpy = predict()
    # The same entities; scores (numpy's forward-backward with the numpy
    # Viterbi) equal up to float64 rounding (matrix products sum in another order).
    assert [ents for ents, _ in with_numpy] == [ents for ents, _ in with_torch]
    for (_, got), (_, want) in zip(with_numpy, with_torch):
        assert (got is None) == (want is None)
        if got is not None:
            numpy.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    assert any(ents for ents, _ in with_torch)
    assert not scores or any(s for _, s in with_torch)


def test_emission_prediction_path_equals_the_wrapper():
    nlp, _ = train_small_cnn(steps=5)
    docs = [nlp.make_doc(text) for text, _ in TRAIN_DATA] + [nlp.make_doc("")]
    model = nlp.get_pipe("crf_ner").model
    head = model.get_ref("crf_head")
    vectors = nlp.get_pipe("tok2vec").model.predict(docs)
    fast = head.predict(vectors)
    wrapped = head.layers[0].predict(vectors)
    assert [f.shape for f in fast] == [w.shape for w in wrapped]
    for f, w in zip(fast, wrapped):
        numpy.testing.assert_allclose(f, w, rtol=1e-5, atol=1e-6)
    _, backprop = head(vectors, is_train=True)  # training still goes through the wrapper
    backprop([model.ops.alloc2f(*f.shape) for f in fast])
    with pytest.raises(ValueError, match="E070"):
        head._func(head, vectors, False)[1](fast)
