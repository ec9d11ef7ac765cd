"""Fixtures shared by every test folder, and the test tiers: tests marked
`@pytest.mark.slow` run only with `--slow` (as spaCy's own tests do), so that
`python -m pytest tests` is the quick tier and `python -m pytest tests --slow`
runs everything. Shared constants and helpers are in tests/util.py."""

import json
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from .util import CLUENER_DEV, DATA, HIDDEN, VOCAB, train_small_crf


def pytest_addoption(parser):
    try:
        parser.addoption("--slow", action="store_true", help="include slow tests")
    # already added, e.g. when this conftest is loaded twice
    except ValueError:
        pass


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a slow test, run only with --slow")


def pytest_runtest_setup(item):
    if "slow" in item.keywords and not item.config.getoption("--slow", False):
        pytest.skip("need --slow option to run")


@pytest.fixture
def nlp():
    return spacy.blank("zh")


@pytest.fixture(scope="session")
def data_dir():
    if not DATA.exists():
        pytest.skip(f"shared data not found at {DATA}")
    return DATA


RULER_PATTERNS = [
    {"label": "name", "pattern": "张三"},
    {"label": "company", "pattern": "腾讯"},
    {"label": "address", "pattern": "北京"},
]


@pytest.fixture(scope="session")
def ruler_model(tmp_path_factory):
    """A rule-based pipeline with known entities, for testing the CLIs."""
    nlp = spacy.blank("zh")
    nlp.add_pipe("entity_ruler").add_patterns(RULER_PATTERNS)
    path = tmp_path_factory.mktemp("ruler") / "model"
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="session")
def crf_model(tmp_path_factory):
    """A small crf_ner pipeline, trained a little (scores spread out), saved
    with the default settings (scores off), for the confidence CLIs."""
    nlp = train_small_crf(15)
    path = tmp_path_factory.mktemp("crf") / "model"
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer BERT with chinese-bert-wwm-ext's vocab."""
    transformers = pytest.importorskip("transformers")
    if not VOCAB.exists():
        pytest.skip(f"Chinese BERT vocab not found at {VOCAB}")
    import torch

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-bert")
    config = transformers.BertConfig(
        vocab_size=21128,
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    transformers.BertModel(config).save_pretrained(path)
    transformers.BertTokenizerFast(vocab_file=str(VOCAB)).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def cluener_slices(tmp_path_factory) -> dict:
    """train (24 docs) and dev (12 docs) DocBins from CLUENER dev.json, made by
    the project's converter, plus the docs' texts."""
    if not CLUENER_DEV.exists():
        pytest.skip(f"CLUENER data not found at {CLUENER_DEV}")
    from spacy_cluener.converters import convert_file

    path = tmp_path_factory.mktemp("cluener")
    with CLUENER_DEV.open(encoding="utf8") as file_:
        lines = [line for line in file_ if line.strip()][:36]
    src = path / "dev36.json"
    src.write_text("".join(lines), encoding="utf8")
    doc_bin, _ = convert_file(src, "cluener")
    docs = list(doc_bin.get_docs(spacy.blank("zh").vocab))
    out = {"texts": [json.loads(line)["text"] for line in lines]}
    for name, part in (("train", docs[:24]), ("dev", docs[24:])):
        out[name] = path / f"{name}.spacy"
        DocBin(docs=part, attrs=["ORTH", "ENT_IOB", "ENT_TYPE"]).to_disk(out[name])
    return out
