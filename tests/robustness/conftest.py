"""A small trained pipeline built from configs/cnn_crf.cfg, shared by the robustness tests.

Same architecture as the shipped CPU pipeline (char + bigram hash embeddings,
CNN, constrained CRF), only narrower, overfitted on a few sentences so it
predicts entities within seconds of training.
"""
import pytest

from ..util import TRAIN_DATA, ents, train_small_cnn


@pytest.fixture(scope="session")
def cnn_nlp():
    nlp, _ = train_small_cnn()
    for text, gold in TRAIN_DATA:
        assert ents(nlp(text)) == gold, "the small CNN pipeline did not learn its training data"
    return nlp


@pytest.fixture(scope="session")
def cnn_model_dir(cnn_nlp, tmp_path_factory):
    path = tmp_path_factory.mktemp("cnn") / "model"
    cnn_nlp.to_disk(path)
    return path
