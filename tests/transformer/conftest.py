"""Fixtures for the transformer path: a tiny random BERT with the real
Chinese vocab, and small CLUENER slices. Offline: nothing is downloaded."""
import json
import os
from pathlib import Path

import pytest

pytest.importorskip("spacy_transformers")
transformers = pytest.importorskip("transformers")

import spacy  # noqa: E402
from spacy import util  # noqa: E402
from spacy.tokens import DocBin  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SPACY_CLUENER_SHARED", REPO / ".." / "shared"))
VOCAB = SHARED / "models" / "chinese-bert-vocab" / "vocab.txt"
CLUENER_DEV = SHARED / "data" / "cluener2020" / "dev.json"
TRF_CONFIG = REPO / "configs" / "trf_crf.cfg"
HIDDEN = 32


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer BERT with chinese-bert-wwm-ext's vocab."""
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


def trf_config(tiny_bert: Path, slices: dict, **overrides):
    """configs/trf_crf.cfg on the tiny BERT and the slices, with overrides
    given as {"section.key": value}; not interpolated."""
    base = {
        "components.transformer.model.name": str(tiny_bert),
        "paths.train": str(slices["train"]),
        "paths.dev": str(slices["dev"]),
        "training.max_steps": 4,
        "training.eval_frequency": 2,
    }
    base.update(overrides)
    return util.load_config(TRF_CONFIG, overrides=base, interpolate=False)
