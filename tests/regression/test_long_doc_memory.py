"""Issue 12, item 11: one 200,000-character doc through the CNN pipeline
peaked at 4.8 GB RSS. The tok2vec ran the whole doc at once, and thinc keeps
each encoder layer's intermediate arrays until the encoder returns. The CNN
config now predicts long docs window by window (`spacy_cluener.ChunkedTok2Vec.v1`).

Memory itself is measured by benchmarks/scripts/long_doc_memory.py, never
asserted here; these tests check that the encoder is never given more than
`chunk_size` tokens at prediction, and that the entities are those of the
pipeline as it was before (`spacy.Tok2Vec.v2`, one pass over the whole doc).
"""
import random
import shutil

import numpy
import pytest
import spacy
from spacy import util

from ..util import REPO, TRAIN_DATA, ents, spy_embed, train_from_config

CNN_CONFIG = REPO / "configs" / "cnn_crf.cfg"
SMALL = {
    "components.tok2vec.model.encode.width": 32,
    "components.tok2vec.model.encode.depth": 2,
    "components.tok2vec.model.embed.char_rows": 1000,
    "components.tok2vec.model.embed.bigram_rows": 1000,
    "components.crf_ner.model.dropout": 0.0,
}


def long_text(n: int, seed: int = 0) -> str:
    """The training sentences in random order, with random characters,
    Latin, digits and whitespace between them."""
    rng = random.Random(seed)
    noise = "的了是在和有我他这中大来上国个到说们为子" + "abcXYZ0123456789" + "  \n，。"
    parts = []
    while sum(map(len, parts)) < n:
        parts.append(rng.choice(TRAIN_DATA)[0] if rng.random() < 0.6 else "".join(rng.choices(noise, k=rng.randint(1, 12))))
    return "".join(parts)[:n]


def trained(config, steps: int = 40) -> spacy.Language:
    return train_from_config(config, steps)


@pytest.fixture(scope="module")
def config():
    return util.load_config(CNN_CONFIG, overrides=SMALL, interpolate=False)


@pytest.fixture(scope="module")
def saved_before(config, tmp_path_factory):
    """A pipeline as trained before the change: spacy.Tok2Vec.v2, no windows."""
    before = config.copy()
    settings = before["components"]["tok2vec"]["model"]
    settings["@architectures"] = "spacy.Tok2Vec.v2"
    settings.pop("chunk_size", None)
    settings.pop("overlap", None)
    path = tmp_path_factory.mktemp("before") / "model"
    trained(before).to_disk(path)
    return path


def test_the_cnn_encoder_sees_at_most_chunk_size_tokens(config):
    nlp = trained(config, steps=0)
    chunk_size = nlp.config["components"]["tok2vec"]["model"].get("chunk_size")
    assert chunk_size is not None, "configs/cnn_crf.cfg predicts long docs in one pass"
    text = long_text(3 * chunk_size)
    calls, _ = spy_embed(nlp.get_pipe("tok2vec").model)
    doc = nlp(text)
    assert doc.text == text and len(doc) > chunk_size
    windows = [n for call in calls for n in call]
    assert len(windows) > 1 and max(windows) <= chunk_size
    del calls[:]
    short = [nlp.make_doc(text[:100]), nlp.make_doc(text[:chunk_size])]
    list(nlp.pipe(short))
    assert calls == [[len(doc) for doc in short]]  # short docs: one pass, as before


def test_long_doc_entities_equal_the_pipeline_saved_before(saved_before, tmp_path):
    before = spacy.load(saved_before)  # an old pipeline still loads as it was
    assert before.config["components"]["tok2vec"]["model"]["@architectures"] == "spacy.Tok2Vec.v2"
    # ... and predicts in windows with its own weights once its config says so
    # (same layer tree: nothing else changes).
    shutil.copytree(saved_before, tmp_path / "now")
    config = tmp_path / "now" / "config.cfg"
    old = '[components.tok2vec.model]\n@architectures = "spacy.Tok2Vec.v2"\n'
    assert old in config.read_text(encoding="utf8")
    config.write_text(config.read_text(encoding="utf8").replace(old, old.replace(
        '"spacy.Tok2Vec.v2"', '"spacy_cluener.ChunkedTok2Vec.v1"\nchunk_size = 512\noverlap = 64')), encoding="utf8")
    now = spacy.load(tmp_path / "now")
    for text in [long_text(6000, seed) for seed in range(2)] + [t for t, _ in TRAIN_DATA]:
        want, got = before(text), now(text)
        assert ents(want), "the test needs a pipeline that predicts entities"
        assert ents(got) == ents(want)
        numpy.testing.assert_allclose(got.tensor, want.tensor, rtol=1e-5, atol=1e-6)
