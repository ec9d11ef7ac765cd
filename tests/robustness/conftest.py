"""A small trained pipeline built from configs/cnn_crf.cfg, shared by the robustness tests.

Same architecture as the shipped CPU pipeline (char + bigram hash embeddings,
CNN, constrained CRF), only narrower, overfitted on a few sentences so it
predicts entities within seconds of training.
"""
import pytest
from spacy import util
from thinc.api import fix_random_seed

from ..conftest import REPO
from ..util import LABELS, TRAIN_DATA, ents, make_examples  # noqa: F401  (used by the robustness tests)

CNN_CONFIG = REPO / "configs" / "cnn_crf.cfg"
SMALL_CNN = {
    "components.tok2vec.model.encode.width": 32,
    "components.tok2vec.model.encode.depth": 1,
    "components.tok2vec.model.embed.char_rows": 1000,
    "components.tok2vec.model.embed.bigram_rows": 1000,
    "components.crf_ner.model.dropout": 0.0,
}


def small_cnn_nlp(seed: int = 0):
    """An untrained pipeline from the CNN config with SMALL_CNN overrides."""
    config = util.load_config(CNN_CONFIG, overrides=SMALL_CNN, interpolate=False)
    fix_random_seed(seed)
    return util.load_model_from_config(config, auto_fill=True, validate=True)


def train_small_cnn(seed: int = 0, steps: int = 60):
    """Initialize and update on TRAIN_DATA; returns (nlp, losses per step)."""
    nlp = small_cnn_nlp(seed)
    egs = make_examples(nlp)
    optimizer = nlp.initialize(lambda: egs)
    losses = []
    for _ in range(steps):
        step = {}
        nlp.update(egs, sgd=optimizer, losses=step, drop=0.0)
        losses.append(step["crf_ner"])
    return nlp, losses


def assert_valid_offsets(doc, text):
    """Entities of a prediction lie inside the text and slice it exactly."""
    assert doc.text == text
    for ent in doc.ents:
        assert 0 <= ent.start_char < ent.end_char <= len(text), (ent.start_char, ent.end_char, len(text))
        assert text[ent.start_char : ent.end_char] == ent.text
        assert ent.label_ in LABELS


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
