"""Constants and helpers shared by the tests (no test module imports
another, nor a conftest): paths, one small labelled corpus, small models,
odd texts, record builders and readers of what the commands write."""
import json
import math
import os
import socket
from pathlib import Path
from typing import Iterable, List, Tuple, Union

import pytest
import spacy
import torch
from hypothesis import strategies as st
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import load_config, load_model_from_config
from thinc.api import fix_random_seed
from typer.testing import CliRunner

from spacy_cluener.annotation import doc_entities, read_output
from spacy_cluener.annotation.manifest import SUCCESS
from spacy_cluener.cli import app
from spacy_cluener.evaluation.confidence import enable_scores, scores_key

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SPACY_CLUENER_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"
CNN_CONFIG = REPO / "configs" / "cnn_crf.cfg"
TRF_CONFIG = REPO / "configs" / "trf_crf.cfg"
BENCHMARK_SCRIPTS = REPO / "benchmarks" / "scripts"

# A small crf_ner model (the same as tests/components' own copy).
SMALL_MODEL = {
    "@architectures": "spacy_cluener.CRFTagger.v1",
    "dropout": 0.0,
    "tok2vec": {
        "@architectures": "spacy.HashEmbedCNN.v2",
        "pretrained_vectors": None,
        "width": 32,
        "depth": 2,
        "embed_size": 500,
        "window_size": 1,
        "maxout_pieces": 2,
        "subword_features": False,
    },
}

def add_ner(nlp, name="ner", config=None, **kwargs):
    """spaCy's `nlp.add_pipe("ner")`, swapped to crf_ner with the small model."""
    return nlp.add_pipe("crf_ner", name=name, config={"model": SMALL_MODEL, **(config or {})}, **kwargs)


def create_ner(nlp, name="ner", config=None):
    """spaCy's `nlp.create_pipe("ner")`, swapped to crf_ner."""
    return nlp.create_pipe("crf_ner", name=name, config={"model": SMALL_MODEL, **(config or {})})


def small_model():
    """spaCy's `registry.resolve({"model": DEFAULT_NER_MODEL})["model"]`, swapped."""
    from spacy import registry

    return registry.resolve({"model": SMALL_MODEL}, validate=True)["model"]


# Four sentences with every entity type the small pipelines learn.
TRAIN_DATA = [
    ("张三在上海工作", [(0, 2, "name"), (3, 5, "address")]),
    ("李四去了广州", [(0, 2, "name"), (4, 6, "address")]),
    ("我爱北京天安门", [(2, 4, "address"), (4, 7, "scene")]),
    ("王五是腾讯的工程师", [(0, 2, "name"), (3, 5, "company"), (6, 9, "position")]),
]
LABELS = ("address", "company", "name", "position", "scene")


def ents(doc: Doc) -> List[Tuple[int, int, str]]:
    """(start_char, end_char, label) of each entity."""
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def make_examples(nlp: Language, data=TRAIN_DATA) -> List[Example]:
    return [Example.from_dict(nlp.make_doc(text), {"entities": gold}) for text, gold in data]


def rec(text: str, label=None, **extra) -> str:
    """One CLUENER line: `{"text": ..., "label": ...}` plus any extra keys."""
    record = {"text": text, **extra}
    if label is not None:
        record["label"] = label
    return json.dumps(record, ensure_ascii=False)


def write_jsonl(path: Path, records: Iterable[Union[str, dict]]) -> Path:
    """JSON lines; a str is written as it is (for malformed lines)."""
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records),
        encoding="utf-8",
    )
    return path


def read_jsonl(path: Path) -> List[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def spy_embed(model):
    """Record the doc lengths of every call to a tok2vec model's embed layer;
    returns (calls, restore)."""
    embed = model.get_ref("embed")
    calls = []
    forward = embed._func

    def recording(layer, docs, is_train):
        calls.append([len(doc) for doc in docs])
        return forward(layer, docs, is_train)

    embed._func = recording
    return calls, lambda: setattr(embed, "_func", forward)


def positive_finite(value) -> bool:
    """A figure a benchmark printed: a number (not a bool), finite, above 0."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return number and math.isfinite(value) and value > 0


def cluener_slice(data_dir: Path, out_dir: Path, split: str, n: int) -> Path:
    """The first n records of CLUENER `split`, as JSON lines and as a DocBin
    (returned), for tests that train on a small real corpus."""
    from spacy_cluener.converters import convert_file

    lines = (data_dir / "cluener2020" / f"{split}.json").read_text(encoding="utf8").splitlines()[:n]
    (out_dir / f"{split}.json").write_text("\n".join(lines) + "\n", encoding="utf8")
    doc_bin, report = convert_file(out_dir / f"{split}.json", "cluener")
    assert report.written == n
    doc_bin.to_disk(out_dir / f"{split}.spacy")
    return out_dir / f"{split}.spacy"


# --- the small CNN pipeline of configs/cnn_crf.cfg (tests/robustness)

SMALL_CNN = {
    "components.tok2vec.model.encode.width": 32,
    "components.tok2vec.model.encode.depth": 1,
    "components.tok2vec.model.embed.char_rows": 1000,
    "components.tok2vec.model.embed.bigram_rows": 1000,
    "components.crf_ner.model.dropout": 0.0,
}


def flat_config(config, prefix: str = "") -> dict:
    """A nested config as {"section.key": value}, to compare two configs."""
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(flat_config(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def small_cnn_nlp(seed: int = 0):
    """An untrained pipeline from the CNN config with SMALL_CNN overrides."""
    config = load_config(CNN_CONFIG, overrides=SMALL_CNN, interpolate=False)
    fix_random_seed(seed)
    return load_model_from_config(config, auto_fill=True, validate=True)


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


def train_small_crf(steps: int, **config) -> Language:
    """A blank zh pipeline with crf_ner on SMALL_MODEL (`config`: its other
    settings), initialized and updated `steps` times on TRAIN_DATA, seed 0."""
    fix_random_seed(0)
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_ner", config={"model": SMALL_MODEL, **config})
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(steps):
        nlp.update(examples, sgd=optimizer)
    return nlp


def train_from_config(config, steps: int, step_schedules: bool = False) -> Language:
    """The pipeline of a filled `config` (seed 0), initialized and updated
    `steps` times on TRAIN_DATA without dropout; `step_schedules` advances
    the optimizer's schedules after each update, as spacy train does."""
    fix_random_seed(0)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(steps):
        nlp.update(examples, sgd=optimizer, drop=0.0)
        if step_schedules:
            optimizer.step_schedules()
    return nlp


def assert_valid_offsets(doc, text):
    """Entities of a prediction lie inside the text and slice it exactly."""
    assert doc.text == text
    for ent in doc.ents:
        assert 0 <= ent.start_char < ent.end_char <= len(text), (ent.start_char, ent.end_char, len(text))
        assert text[ent.start_char : ent.end_char] == ent.text
        assert ent.label_ in LABELS


# --- text that any pipeline must predict on without a crash

LONG = ("王五是腾讯的工程师，张三在上海工作。" * 1200)[:20_000]
ODD_TEXTS = {
    "empty": "",
    "space": " ",
    "whitespace only": " \t\n\u3000\xa0\r\n  ",
    "full stop": "。",
    "ascii punctuation": "!",
    "NUL": "\x00",
    "ESC sequence": "\x1b[31m张三\x1b[0m在上海",
    "zero-width space": "\u200b张三\u200b在\u200b上海\u200b",
    "control characters": "".join(chr(c) for c in range(32)) + "张三" + "\x7f\x85",
    "emoji": "张三😀在上海🇨🇳工作👨‍👩‍👧",
    "only emoji": "😀😀😀",
    "replacement characters": "\ufffd\ufffd张三\ufffd",
    "full width": "ＡＢＣ公司１２３号，李四是ＣＥＯ",
    "mixed scripts": "Hello 张三, Привет, مرحبا, こんにちは 上海 שלום 한국어 ελληνικά",
    "latin only": "The quick brown fox jumps over the lazy dog",
    "astral CJK": "𠀀𠀁张三𪚥在上海",
    "combining marks": "a\u0301e\u0308张\u0301三",
    "right-to-left marks": "\u202e张三\u202c在上海",
    "long": LONG,
    "one repeated char": "张" * 5000,
    "newlines": "张三\n\n在\r\n上海\n",
}


TEXT = st.text(
    st.one_of(
        st.characters(codec="utf-8"),  # anything encodable, control characters included
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from(list("张三李四王五上海北京广州腾讯 \u3000")),
    ),
    max_size=80,
)


def predict_odd_texts(model_dir, tmp_path) -> int:
    """`predict` on every ODD_TEXTS record: ids in order, every offset slices
    its entity. RETURNS (int): the number of entities found."""
    names = list(ODD_TEXTS)
    inp = tmp_path / "odd.json"
    # JSON escapes \u0000 etc.; one record per line whatever the text holds
    inp.write_text("".join(json.dumps({"id": n, "text": ODD_TEXTS[n]}) + "\n" for n in names), encoding="utf-8")
    out = tmp_path / "pred.json"
    result = CliRunner().invoke(app, ["predict", str(model_dir), str(inp), str(out), "--batch-size", "5"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == names
    n_found = 0
    for line in lines:
        text = ODD_TEXTS[line["id"]]
        for mentions in line["label"].values():
            for entity, offsets in mentions.items():
                for start, end in offsets:
                    assert 0 <= start <= end < len(text) and text[start : end + 1] == entity
                    n_found += 1
    return n_found


# --- hand-made docs and examples for the scorers

def run_from_wheel(wheel: Path, tmp_path: Path, script: str, *args: str):
    """Install `wheel` alone (`--no-deps`) into a bare target directory and
    run `script` with it first on the path (one OpenMP thread, cwd outside
    the repository): what `pip install` of a pipeline wheel gives. RETURNS
    the JSON of the script's last line."""
    import subprocess
    import sys

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target), "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def make_doc(nlp, text, spans, default="outside"):
    doc = nlp.make_doc(text)
    doc.set_ents([Span(doc, s, e, label=label) for s, e, label in spans], default=default)
    return doc


def make_example(nlp, text, gold, pred, default="outside"):
    return Example(make_doc(nlp, text, pred), make_doc(nlp, text, gold, default=default))


# --- the transformer pipeline on a tiny BERT (tests/transformer)

VOCAB = SHARED / "models" / "chinese-bert-vocab" / "vocab.txt"
CLUENER_DEV = DATA / "cluener2020" / "dev.json"
HIDDEN = 32


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
    return load_config(TRF_CONFIG, overrides=base, interpolate=False)


# --- annotate: what nlp.pipe gives, and the checks of every engine's output

def cluener_lines(data_dir: Path, n: int) -> List[str]:
    with open(data_dir / "cluener2020" / "train.json", encoding="utf-8") as handle:
        return [next(handle).rstrip("\n") for _ in range(n)]


def prefix_file(cluener_file: Path, reference: List[dict], out: Path, n: int) -> "tuple[Path, List[dict]]":
    """The first n records of the slice in another file, and their reference
    (the same entities, ids of the new file)."""
    lines = cluener_file.read_text(encoding="utf-8").splitlines()[:n]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out, [{"id": f"{out}:{k}", "entities": r["entities"]} for k, r in enumerate(reference[:n], start=1)]


def pipe_reference(model: Path, texts: List[str], ids: list) -> List[dict]:
    """[{"id", "entities"}] from plain nlp.pipe, with scores, one torch
    thread (the workers' setting), as the engines must write them."""
    nlp = spacy.load(model)
    enable_scores(nlp)
    key = scores_key(nlp)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # annotate's ids are strings: a non-string id as its JSON text
        ids = [i if isinstance(i, str) else json.dumps(i) for i in ids]
        return [{"id": i, "entities": doc_entities(doc, key)} for doc, i in zip(nlp.pipe(texts), ids)]
    finally:
        torch.set_num_threads(threads)


def assert_exactly_once(out_dir: Path, expected: List[dict]) -> dict:
    """The output holds every expected record once, in input order, equal to
    the reference; the directory holds exactly the manifest's shard files
    and no temporary file. RETURNS (dict): the manifest."""
    manifest = json.loads((out_dir / SUCCESS).read_text(encoding="utf-8"))
    rows = read_output(out_dir)
    assert [r["id"] for r in rows] == [e["id"] for e in expected]
    assert [without_scores(r) for r in rows] == [without_scores(e) for e in expected]
    # the float64 marginals move in the last bit with the batch a doc is padded
    # in (a shard's batches are not nlp.pipe's over the whole file)
    assert [scores(r) for r in rows] == [pytest.approx(scores(e), rel=1e-12, abs=1e-15) for e in expected]
    on_disk = sorted(p.name for p in out_dir.iterdir() if not p.name.startswith("_"))
    assert on_disk == sorted(s["file"] for s in manifest["shards"])
    assert manifest["records"] == len(expected) == sum(s["records"] for s in manifest["shards"])
    return manifest


def shard_stats(out_dir: Path) -> dict:
    """name -> (inode, mtime_ns) of each shard file: unchanged means not rewritten."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out_dir.glob("part-*")}


def without_scores(row: dict) -> tuple:
    return row["id"], [{k: v for k, v in e.items() if k != "score"} for e in row["entities"]]


def scores(row: dict) -> list:
    return [e["score"] for e in row["entities"]]


# What the live round trips (Label Studio, doccano) send to the real servers:
# plain text, an emoji (UTF-16 offsets) and an empty text (refused by both)
LIVE_TEXTS = ["张三在上海工作", "王五是腾讯的工程师", "我爱北京天安门", "😀李四去了广州", ""]


def predict_live_texts(model: Path, tmp_path: Path, fmt: str) -> Tuple[List[dict], Path, dict]:
    """LIVE_TEXTS through `predict --to FMT`, for the live round trips.
    RETURNS the records written, the pre-annotation file, and each record's
    entities (by id) as the loaded pipeline predicts them."""
    records = [{"id": f"r{i}", "text": t} for i, t in enumerate(LIVE_TEXTS)]
    inp = write_jsonl(tmp_path / "in.json", records)
    output = tmp_path / ("tasks.json" if fmt == "label-studio" else "tasks.jsonl")
    result = CliRunner().invoke(app, ["predict", str(model), str(inp), str(output), "--to", fmt])
    assert result.exit_code == 0, result.output
    nlp = spacy.load(model)
    expected = {r["id"]: [(e.start_char, e.end_char, e.label_) for e in nlp(r["text"]).ents] for r in records}
    assert any(expected.values())
    return records, output, expected


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
