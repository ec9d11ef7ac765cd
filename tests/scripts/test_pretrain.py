"""scripts/raw_text.py and `spacy pretrain` on configs/cnn_crf.cfg.

The point of the second test: spaCy loads `[initialize] init_tok2vec` only
when the config's `[pretraining]` block is filled, and says nothing when it
is not. The test trains the pretraining objective for one epoch on a slice of
CLUENER and checks that `init_nlp` then starts from exactly those weights.
"""
import json
import subprocess
import sys

import numpy
import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.training.initialize import init_nlp
from spacy.training.pretrain import pretrain
from spacy.util import load_config

from ..util import REPO, cluener_slice

pytestmark = pytest.mark.slow  # spacy pretrain and training in subprocesses

SCRIPT = REPO / "scripts" / "raw_text.py"
CONFIG = REPO / "configs" / "cnn_crf.cfg"
SMALL = {
    "components.tok2vec.model.encode.width": 32,
    "components.tok2vec.model.encode.depth": 1,
    "components.tok2vec.model.embed.embed_width": 16,
    "components.tok2vec.model.embed.char_rows": 2000,
    "components.tok2vec.model.embed.bigram_rows": 2000,
    "pretraining.batcher.size": 500,
    "pretraining.objective.hidden_size": 32,
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("pretrain_corpus")
    cluener_slice(data_dir, out, "train", 120)
    blank = DocBin()
    blank.add(Doc(spacy.blank("zh").vocab, words=[" "], spaces=[False]))
    blank.to_disk(out / "blank.spacy")
    return out


def test_raw_text_writes_one_line_per_doc(corpus, tmp_path):
    output = tmp_path / "raw.jsonl"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(output), str(corpus / "train.spacy"), str(corpus / "blank.spacy")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    texts = [json.loads(line)["text"] for line in output.read_text(encoding="utf8").splitlines()]
    expected = [json.loads(line)["text"] for line in (corpus / "train.json").read_text(encoding="utf8").splitlines()]
    assert texts == expected
    assert "read 120 docs, wrote 120, skipped 0" in proc.stdout
    assert "read 1 docs, wrote 0, skipped 1 with no text" in proc.stdout


def _params(model):
    return {
        (node.name, i, name): node.get_param(name).copy()
        for i, node in enumerate(model.walk())
        for name in node.param_names
        if node.has_param(name)
    }


def test_pretrained_weights_are_loaded_by_init_tok2vec(corpus, tmp_path):
    raw = tmp_path / "raw.jsonl"
    subprocess.run([sys.executable, str(SCRIPT), str(raw), str(corpus / "train.spacy")], check=True)
    config = load_config(CONFIG, overrides={**SMALL, "paths.raw_text": str(raw)}, interpolate=False)
    (tmp_path / "pretrain").mkdir()
    pretrain(config.interpolate(), tmp_path / "pretrain")
    weights = tmp_path / "pretrain" / "model0.bin"
    assert weights.exists()

    train_overrides = {**SMALL, "paths.train": str(corpus / "train.spacy"), "paths.dev": str(corpus / "train.spacy")}
    loaded = init_nlp(load_config(CONFIG, overrides={**train_overrides, "paths.init_tok2vec": str(weights)}).interpolate())
    fresh = init_nlp(load_config(CONFIG, overrides=train_overrides).interpolate())
    reference = fresh.get_pipe("tok2vec").model.from_bytes(weights.read_bytes())
    expected, got = _params(reference), _params(loaded.get_pipe("tok2vec").model)
    assert expected.keys() == got.keys() and expected
    for key in expected:
        numpy.testing.assert_array_equal(got[key], expected[key], err_msg=str(key))
    # and they are not simply the random initialisation
    untouched = _params(init_nlp(load_config(CONFIG, overrides=train_overrides).interpolate()).get_pipe("tok2vec").model)
    assert any(not numpy.array_equal(untouched[k], expected[k]) for k in expected)
