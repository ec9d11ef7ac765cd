"""The transformer tests need spacy-transformers and transformers; the tiny
BERT and the CLUENER slices they train on are fixtures of tests/conftest.py."""
import pytest
from spacy import util

from ..util import TRAIN_DATA, TRF_CONFIG, ents, train_from_config

pytest.importorskip("spacy_transformers")
pytest.importorskip("transformers")


def train_trf(tiny_bert, steps: int = 40, **overrides):
    """configs/trf_crf.cfg on the tiny BERT, trained on TRAIN_DATA until it
    finds their entities (about 30 steps; no warmup, high rates)."""
    config = util.load_config(TRF_CONFIG, overrides={
        "components.transformer.model.name": str(tiny_bert),
        "components.crf_ner.model.dropout": 0.0,
        "training.optimizer.learn_rate.warmup_steps": 1,
        "training.optimizer.learn_rate.initial_rate": 1e-3,
        "training.optimizer.head_learn_rate.initial_rate": 1e-2,
        **overrides,
    }, interpolate=False).interpolate()
    return train_from_config(config, steps, step_schedules=True)


@pytest.fixture(scope="module")
def fp32_dir(tiny_bert, tmp_path_factory):
    nlp = train_trf(tiny_bert)
    assert [ents(doc) for doc in nlp.pipe(t for t, _ in TRAIN_DATA)] == [gold for _, gold in TRAIN_DATA]
    path = tmp_path_factory.mktemp("quantize") / "fp32"
    nlp.to_disk(path)
    return path

