"""A short real `spacy train` run of configs/cnn_crf.cfg on a slice of CLUENER."""
import pytest
import spacy
import srsly
from spacy.cli.train import train
from spacy.tokens import DocBin
from spacy.training import Example

from ..util import REPO, cluener_slice

pytestmark = pytest.mark.slow  # 300 steps of spacy train on 1,500 docs

SMALL = {
    "components.tok2vec.model.encode.width": 64,
    "components.tok2vec.model.encode.depth": 2,
    "components.tok2vec.model.embed.bigram_rows": 5000,
    "training.max_steps": 300,
    "training.eval_frequency": 100,
    "training.batcher.size.start": 500,
    "training.batcher.size.stop": 500,
    "training.optimizer.learn_rate": 0.003,
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("corpus")
    for split, n in (("train", 1500), ("dev", 300)):
        cluener_slice(data_dir, out, split, n)
    return out


def dev_f1(nlp, path):
    gold = list(DocBin().from_disk(path).get_docs(nlp.vocab))
    return nlp.evaluate([Example(nlp.make_doc(doc.text), doc) for doc in gold])["ents_f"] or 0.0


def test_short_training_run_f1_rises(corpus, tmp_path):
    overrides = {"paths.train": str(corpus / "train.spacy"), "paths.dev": str(corpus / "dev.spacy"), **SMALL}
    train(REPO / "configs" / "cnn_crf.cfg", tmp_path, overrides=overrides)
    best = spacy.load(tmp_path / "model-best")
    perf = srsly.read_json(tmp_path / "model-best" / "meta.json")["performance"]
    # an initialized, untrained pipeline as the baseline
    untrained = spacy.load(tmp_path / "model-last")
    untrained.get_pipe("crf_ner").model.get_ref("crf_head").layers[0].shims[0]._model.apply(
        lambda m: [p.data.zero_() for p in m.parameters(recurse=False)]
    )
    before = dev_f1(untrained, corpus / "dev.spacy")
    after = dev_f1(best, corpus / "dev.spacy")
    print(f"dev F1 untrained {before:.3f} -> trained {after:.3f}; meta {perf['ents_f']:.3f}")
    assert after == pytest.approx(perf["ents_f"], abs=1e-6)
    assert after > before + 0.15
    assert set(perf["ents_per_type"]) <= {
        "address", "book", "company", "game", "government", "movie", "name", "organization", "position", "scene"
    }
