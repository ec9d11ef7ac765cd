"""Errors a user can act on: one clear message, not a traceback from deep
inside torch or Hugging Face."""
import json
import os
import subprocess
import sys
import warnings

import pytest
import spacy
from spacy import util
from spacy.cli.train import train
from spacy.tokens import DocBin
from spacy.training import Example
from typer.testing import CliRunner

from spacy_cluener.cli import app

from ..util import CNN_CONFIG, LABELS, REPO, SMALL_CNN

runner = CliRunner()


def write_docbin(path, items):
    """items: (text, [(start, end, label)])."""
    nlp = spacy.blank("zh")
    docs = []
    for text, spans in items:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(s, e, label=lab) for s, e, lab in spans]
        docs.append(doc)
    DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"], docs=docs).to_disk(path)
    return path


@pytest.fixture
def cluener_input(tmp_path):
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"id": 0, "text": "张三在上海"}, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# --- a model that is not there -------------------------------------------

@pytest.mark.parametrize("as_str", [True, False])
def test_spacy_load_missing_directory(tmp_path, as_str):
    path = tmp_path / "no-model"
    with pytest.raises(OSError, match=r"\[E05[02]\] Can't find model") as err:
        spacy.load(str(path) if as_str else path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("kind", ["missing", "empty dir", "a file"])
@pytest.mark.parametrize("command", ["predict", "report"])
def test_cli_with_missing_model_says_so_and_exits_1(tmp_path, cluener_input, command, kind):
    model = {"missing": tmp_path / "no-model", "empty dir": tmp_path / "empty", "a file": cluener_input}[kind]
    if kind == "empty dir":
        model.mkdir()
    gold = write_docbin(tmp_path / "gold.spacy", [("张三在上海", [(0, 2, "name")])])
    out = tmp_path / "out"
    args = {
        "predict": ["predict", str(model), str(cluener_input), str(out / "pred.json")],
        "report": ["report", str(model), str(gold), "--output", str(out)],
    }[command]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # not an OSError traceback
    assert f"Cannot load the pipeline '{model}'" in result.output
    assert "[E050]" in result.output or "[E053]" in result.output
    assert not out.exists()


def test_predict_cli_missing_model_in_a_real_process(tmp_path, cluener_input):
    """What a user sees in a terminal: one line, no traceback."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    proc = subprocess.run(
        [sys.executable, "-m", "spacy_cluener", "predict", str(tmp_path / "nope"), str(cluener_input), str(tmp_path / "p.json")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "─" not in proc.stderr  # nor typer's boxed one
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Cannot load the pipeline" in lines[0] and "[E050]" in lines[0], proc.stderr


def test_predict_cli_rejects_invalid_unicode_with_file_line(cnn_model_dir, tmp_path):
    inp = tmp_path / "in.json"
    inp.write_bytes(b'{"text": "\\u5f20\\u4e09"}\n{"text": "\\ud83d\\u5f20"}\n')
    result = runner.invoke(app, ["predict", str(cnn_model_dir), str(inp), str(tmp_path / "p.json")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert f"{inp}:2: 'text' is not valid Unicode" in result.output
    inp.write_bytes(b'{"text": "\\u5f20\\u4e09"}\n{"text": "\xff\xfe"}\n')
    result = runner.invoke(app, ["predict", str(cnn_model_dir), str(inp), str(tmp_path / "p.json")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert f"{inp}:2: 'text' is not valid Unicode" in result.output
    assert not (tmp_path / "p.json").exists()


# --- a transformer config whose BERT directory is missing ----------------

def test_trf_config_with_missing_bert_dir(tmp_path):
    pytest.importorskip("spacy_transformers")
    pytest.importorskip("spacy_cluener.layers.bilstm")  # registers BiLSTM.v1
    pytest.importorskip("spacy_cluener.training")  # HeadAdam.v1, init_frozen_transformer.v1
    from spacy.training.initialize import init_nlp

    corpus = write_docbin(tmp_path / "c.spacy", [("张三在上海", [(0, 2, "name")])])
    missing = tmp_path / "bert-wwm-ext"
    overrides = {"components.transformer.model.name": str(missing), "paths.train": str(corpus), "paths.dev": str(corpus)}
    config = util.load_config(REPO / "configs" / "trf_crf.cfg", overrides=overrides, interpolate=False)
    with pytest.raises(ValueError, match=r"\[E009\]") as err:
        init_nlp(config)
    assert f"'{missing}', which is not a directory" in str(err.value)


# --- a corpus with no entities -------------------------------------------

def test_training_on_a_corpus_without_entities(tmp_path):
    corpus = write_docbin(tmp_path / "none.spacy", [("今天天气不错", []), ("没有实体", [])])
    overrides = {"paths.train": str(corpus), "paths.dev": str(corpus), **SMALL_CNN, "training.max_steps": 2}
    with pytest.raises(ValueError) as err:
        train(CNN_CONFIG, tmp_path / "out", overrides=overrides)
    assert str(err.value).startswith("[E004] The crf_ner component has no labels.")
    assert "[initialize.components.crf_ner.labels]" in str(err.value)


def test_dev_corpus_without_entities_is_warned_about(tmp_path):
    # Issue 12: this trained to 0.00 dev scores without a word.
    train_corpus = write_docbin(tmp_path / "train.spacy", [("张三在上海工作", [(0, 2, "name"), (3, 5, "address")])])
    dev = write_docbin(tmp_path / "dev.spacy", [("今天天气不错", []), ("没有实体", [])])
    overrides = {"paths.train": str(train_corpus), "paths.dev": str(dev), **SMALL_CNN, "training.max_steps": 2}
    with pytest.warns(UserWarning, match=r"\[W003\] The 2 example\(s\) being scored have no gold entities"):
        train(CNN_CONFIG, tmp_path / "out", overrides=overrides)


def test_dev_corpus_with_entities_is_not_warned_about(cnn_nlp):
    examples = [Example.from_dict(cnn_nlp.make_doc("今天天气不错"), {"entities": []}),
                Example.from_dict(cnn_nlp.make_doc("张三在上海"), {"entities": [(0, 2, "name")]})]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cnn_nlp.evaluate(examples)
    assert not [w for w in caught if "[W003]" in str(w.message)]


# --- labels the model never saw ------------------------------------------

UNSEEN = [("张三买了一把屠龙刀", [(0, 2, "name"), (6, 9, "weapon")])]


def test_evaluate_with_unseen_gold_labels_scores_them_as_missed(cnn_nlp):
    examples = [Example.from_dict(cnn_nlp.make_doc(t), {"entities": e}) for t, e in UNSEEN]
    scores = cnn_nlp.evaluate(examples)
    assert scores["ents_per_type"]["weapon"]["r"] == 0.0
    assert "weapon" not in LABELS


def test_report_cli_with_unseen_gold_labels(cnn_model_dir, tmp_path):
    gold = write_docbin(tmp_path / "gold.spacy", UNSEEN)
    result = runner.invoke(app, ["report", str(cnn_model_dir), str(gold), "--output", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert "weapon" in json.dumps(report, ensure_ascii=False)


def test_update_with_unseen_gold_label_adds_it(cnn_nlp):
    # Was a ValueError; since issue 23 a gold label first seen in update is
    # added and the model grows, as with spaCy's ner. A copy: the shared
    # fixture stays untouched.
    model = util.load_model_from_config(cnn_nlp.config, auto_fill=False)
    model.from_bytes(cnn_nlp.to_bytes())
    examples = [Example.from_dict(model.make_doc(t), {"entities": e}) for t, e in UNSEEN]
    model.update(examples, sgd=model.resume_training())
    assert set(model.get_pipe("crf_ner").labels) == {*LABELS, "weapon"}


def test_update_with_no_known_gold_tag_warns_and_skips_the_doc(cnn_nlp):
    # a doc with some tags missing trains on the others (issue 23); one with none known is skipped
    model = util.load_model_from_config(cnn_nlp.config, auto_fill=False)
    model.from_bytes(cnn_nlp.to_bytes())
    partial = Example.from_dict(model.make_doc("张三在上海"), {"entities": ["-", "-", "-", "-", "-"]})
    full = Example.from_dict(model.make_doc("李四去了广州"), {"entities": [(0, 2, "name"), (4, 6, "address")]})
    with pytest.warns(UserWarning, match=r"\[W001\] 1 doc\(s\) in this batch have no usable gold tag"):
        losses = model.update([partial, full], sgd=model.resume_training())
    assert losses["crf_ner"] > 0  # the complete doc still trains
