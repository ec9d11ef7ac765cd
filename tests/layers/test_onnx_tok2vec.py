"""spacy_cluener.ChunkedTok2Vec's `onnx` setting (layers/onnx_tok2vec.py):
one doc (v2) or every batch (v3) through an ONNX Runtime graph built from
the weights gives thinc's vectors and the pipeline's entities, and a doc's
vectors do not depend on its batch (int8 too: each row is quantised on its
own); v2's batches stay thinc's; the graph follows the weights after an
update; bad settings and missing packages are one clear error each."""
import sys
import tempfile
from pathlib import Path

import numpy
import pytest
import spacy
from spacy import util

from spacy_cluener.layers import onnx_tok2vec

from ..util import CNN_CONFIG, SMALL_CNN, TRAIN_DATA, ents, make_examples, train_small_cnn

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

V2 = {"components.tok2vec.model.@architectures": "spacy_cluener.ChunkedTok2Vec.v2"}
V3 = {"components.tok2vec.model.@architectures": "spacy_cluener.ChunkedTok2Vec.v3"}
TEXTS = [t for t, _ in TRAIN_DATA] + ["张三和李四在北京天安门", "a", "王五去了腾讯公司上海分部做工程师" * 10]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    nlp, _ = train_small_cnn(steps=10)
    path = tmp_path_factory.mktemp("onnx_tok2vec") / "model"
    nlp.to_disk(path)
    return path


def thinc_vectors(nlp, text):
    """A doc's vectors from thinc's path: a batch of two docs never takes the graph."""
    model = nlp.get_pipe("tok2vec").model
    return model.predict([nlp.make_doc(text), nlp.make_doc("的")])[0]


def one_doc_vectors(nlp, text):
    return nlp.get_pipe("tok2vec").model.predict([nlp.make_doc(text)])[0]


def test_fp32_graph_gives_thincs_vectors_and_entities(model_dir):
    plain = spacy.load(model_dir)
    nlp = spacy.load(model_dir, config={**V2, "components.tok2vec.model.onnx": "fp32"})
    for text in TEXTS:
        ours = one_doc_vectors(nlp, text)
        assert ours.shape == one_doc_vectors(plain, text).shape
        numpy.testing.assert_allclose(ours, one_doc_vectors(plain, text), atol=1e-4)
        assert ents(nlp(text)) == ents(plain(text))
    assert nlp.get_pipe("tok2vec").model.id in onnx_tok2vec._COMPILED
    # several docs: thinc's own path, the same arrays as v1
    docs = [nlp.make_doc(t) for t in TEXTS]
    for a, b in zip(nlp.get_pipe("tok2vec").model.predict(docs), plain.get_pipe("tok2vec").model.predict(docs)):
        numpy.testing.assert_array_equal(a, b)
    assert ents(nlp("")) == []


def test_off_is_v1(model_dir):
    nlp = spacy.load(model_dir, config={**V2, "components.tok2vec.model.onnx": "off"})
    model = nlp.get_pipe("tok2vec").model
    for text in TEXTS[:3]:
        numpy.testing.assert_array_equal(one_doc_vectors(nlp, text), thinc_vectors(nlp, text))
    assert model.id not in onnx_tok2vec._COMPILED


def test_int8_graph_is_close(model_dir):
    nlp = spacy.load(model_dir, config={**V2, "components.tok2vec.model.onnx": "int8"})
    for text in TEXTS[:4]:
        ours, theirs = one_doc_vectors(nlp, text), thinc_vectors(nlp, text)
        assert ours.shape == theirs.shape and numpy.corrcoef(ours.ravel(), theirs.ravel())[0, 1] > 0.9
    compiled = onnx_tok2vec._COMPILED[nlp.get_pipe("tok2vec").model.id]
    import onnx

    nodes = [n.op_type for n in onnx.load_from_string(compiled.graph).graph.node]
    assert any(op in ("MatMulInteger", "DynamicQuantizeMatMul") for op in nodes)


def test_graph_follows_the_weights_after_an_update(model_dir):
    nlp = spacy.load(model_dir, config={**V2, "components.tok2vec.model.onnx": "fp32"})
    text = TEXTS[0]
    before = one_doc_vectors(nlp, text)
    optimizer = nlp.resume_training()
    for _ in range(3):
        nlp.update(make_examples(nlp), sgd=optimizer)
    after = one_doc_vectors(nlp, text)
    assert not numpy.allclose(before, after, atol=1e-4)  # the weights moved
    numpy.testing.assert_allclose(after, thinc_vectors(nlp, text), atol=1e-4)
    # the averaged weights (spacy train's evaluation) are other arrays: rebuilt for them too
    with nlp.use_params(optimizer.averages):
        numpy.testing.assert_allclose(one_doc_vectors(nlp, text), thinc_vectors(nlp, text), atol=1e-4)
    numpy.testing.assert_allclose(one_doc_vectors(nlp, text), after, atol=1e-4)


def batch_vectors(nlp, texts):
    return nlp.get_pipe("tok2vec").model.predict([nlp.make_doc(t) for t in texts])


@pytest.mark.parametrize("mode", ["fp32", "int8"])
def test_v3_batches_take_the_graph_and_each_doc_gets_its_own_vectors(model_dir, mode):
    """A batch (with an empty doc, and a doc longer than chunk_size, which
    thinc predicts window by window) gives each doc the vectors it gets alone:
    exactly, in int8 too, whose activations are quantised row by row."""
    chunks = {"components.tok2vec.model.chunk_size": 64, "components.tok2vec.model.overlap": 16}
    plain = spacy.load(model_dir, config=chunks)
    nlp = spacy.load(model_dir, config={**V3, **chunks, "components.tok2vec.model.onnx": mode})
    texts = TEXTS + ["", "张三" * 50]
    assert len(texts[-1]) > 64
    batched = batch_vectors(nlp, texts)
    assert nlp.get_pipe("tok2vec").model.id in onnx_tok2vec._COMPILED
    reference = batch_vectors(plain, texts)
    assert [v.shape for v in batched] == [v.shape for v in reference]
    for text, vectors in zip(texts, batched):
        numpy.testing.assert_array_equal(vectors, one_doc_vectors(nlp, text))
    for text, vectors in zip(texts[::-1], batch_vectors(nlp, texts[::-1])):
        numpy.testing.assert_array_equal(vectors, one_doc_vectors(nlp, text))
    if mode == "fp32":
        for ours, theirs in zip(batched, reference):
            numpy.testing.assert_allclose(ours, theirs, atol=1e-4)
        assert [ents(doc) for doc in nlp.pipe(texts)] == [ents(doc) for doc in plain.pipe(texts)]
    else:
        for ours, theirs in zip(batched, reference):
            if len(ours):
                assert numpy.corrcoef(ours.ravel(), theirs.ravel())[0, 1] > 0.9
    assert [ents(doc) for doc in nlp.pipe(texts, batch_size=3)] == [ents(nlp(t)) for t in texts]


def test_per_row_quantisation_is_each_rows_own():
    """quantize_graph(per_row=True): each output row is what that row gives
    alone (rows of very different ranges; onnxruntime's own graph mixes
    them), and closer to fp32 than the whole-input range."""
    import onnxruntime
    import torch

    from spacy_cluener.layers.onnx_export import export_graph, quantize_graph

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(24, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8)).eval()
    rng = numpy.random.default_rng(0)
    X = (rng.normal(size=(5, 24)) * numpy.array([[0.1], [1], [10], [1], [1]]) + [[0], [0], [0], [3], [-3]])
    X = X.astype("float32")
    with tempfile.TemporaryDirectory() as tmp:
        src = export_graph(module, (torch.from_numpy(X),), Path(tmp) / "fp32.onnx", ["x"], ["y"],
                           {"x": {0: "n"}, "y": {0: "n"}})
        per_tensor = onnxruntime.InferenceSession(str(quantize_graph(src, Path(tmp) / "a.onnx")))
        per_row = onnxruntime.InferenceSession(str(quantize_graph(src, Path(tmp) / "b.onnx", per_row=True)))
        # a 3-d input (a transformer's batch x length x width): each vector of the last axis is a row
        src3 = export_graph(module, (torch.from_numpy(X.reshape(1, 5, 24)),), Path(tmp) / "3d.onnx", ["x"], ["y"],
                            {"x": {0: "b", 1: "n"}, "y": {0: "b", 1: "n"}})
        per_row_3d = onnxruntime.InferenceSession(str(quantize_graph(src3, Path(tmp) / "c.onnx", per_row=True)))
    alone = numpy.concatenate([per_row.run(None, {"x": X[i : i + 1]})[0] for i in range(len(X))])
    numpy.testing.assert_array_equal(per_row.run(None, {"x": X})[0], alone)
    batch = per_row_3d.run(None, {"x": X.reshape(5, 1, 24)})[0]
    assert batch.shape == (5, 1, 8)
    numpy.testing.assert_array_equal(batch.reshape(5, 8), alone)
    numpy.testing.assert_array_equal(per_row_3d.run(None, {"x": X.reshape(1, 5, 24)})[0].reshape(5, 8), alone)
    # the old graph mixes the rows: row 0 (small values) is quantised with row 2's range
    alone = numpy.concatenate([per_tensor.run(None, {"x": X[i : i + 1]})[0] for i in range(len(X))])
    assert not numpy.allclose(per_tensor.run(None, {"x": X})[0], alone, atol=1e-3)
    with torch.no_grad():
        exact = module(torch.from_numpy(X)).numpy()
    ours = per_row.run(None, {"x": X})[0]
    theirs = per_tensor.run(None, {"x": X})[0]
    assert numpy.abs(ours - exact).max() < numpy.abs(theirs - exact).max()


def test_unknown_mode_and_missing_packages(model_dir, monkeypatch):
    with pytest.raises(ValueError, match=r"\[E083\].*'fp16'"):
        spacy.load(model_dir, config={**V2, "components.tok2vec.model.onnx": "fp16"})
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ValueError, match=r"\[E082\].*onnxruntime.*spacy-cluener\[onnx\]"):
        spacy.load(model_dir, config={**V2, "components.tok2vec.model.onnx": "fp32"})
    spacy.load(model_dir, config={**V2, "components.tok2vec.model.onnx": "off"})  # no ONNX needed


def test_other_layers_are_refused():
    """An encoder the graph does not rebuild (a BiLSTM-free stand-in: spaCy's MishWindowEncoder)."""
    overrides = {**{k: v for k, v in SMALL_CNN.items() if not k.startswith("components.tok2vec")}, **V2,
                 "components.tok2vec.model.onnx": "fp32"}
    config = util.load_config(CNN_CONFIG, overrides=overrides, interpolate=False)
    config["components"]["tok2vec"]["model"]["encode"] = {
        "@architectures": "spacy.MishWindowEncoder.v2", "width": 32, "window_size": 1, "depth": 1}
    with pytest.raises(ValueError, match=r"\[E083\].*MaxoutWindowEncoder"):
        util.load_model_from_config(config, auto_fill=True, validate=True)
