"""`spacy_cluener.numpy_blas.v1`: an opt-in callback that moves the dense
layers' matrix products from blis to numpy's BLAS; found by name at load
(entry point), and the predictions stay those of the model up to rounding."""
import numpy
import spacy

from ..util import TRAIN_DATA, train_small_cnn

OPT_IN = {"nlp": {"after_pipeline_creation": {"@callbacks": "spacy_cluener.numpy_blas.v1"}}}


def test_numpy_blas_at_load(tmp_path):
    nlp, _ = train_small_cnn(steps=20)
    nlp.to_disk(tmp_path / "model")
    default = spacy.load(tmp_path / "model")
    blas = spacy.load(tmp_path / "model", config=OPT_IN)
    # the dense layers are the tok2vec's; crf_ner's emission layer is torch's
    assert all(not node.ops.use_blis for node in blas.get_pipe("tok2vec").model.walk())
    assert all(node.ops.use_blis for node in default.get_pipe("tok2vec").model.walk())
    docs = [doc for doc in (nlp.make_doc(text) for text, _ in TRAIN_DATA)]
    a = default.get_pipe("tok2vec").model.predict(docs)
    b = blas.get_pipe("tok2vec").model.predict(docs)
    for x, y in zip(a, b):
        numpy.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
    texts = [text for text, _ in TRAIN_DATA]
    ents = lambda model: [[(e.start, e.end, e.label_) for e in d.ents] for d in model.pipe(texts)]  # noqa: E731
    assert ents(blas) == ents(default)
    # saved with the callback in its config: it loads with it again
    blas.to_disk(tmp_path / "blas")
    again = spacy.load(tmp_path / "blas")
    assert not any(node.ops.use_blis for node in again.get_pipe("tok2vec").model.walk())
