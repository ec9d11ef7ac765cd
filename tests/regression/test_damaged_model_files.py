"""A missing or damaged crf_ner/cfg or crf_ner/model is one OSError naming the
file (one line from the commands), and labels renamed or reordered in cfg are
refused: the weights' columns are checked against a checksum of the tag list."""
import json
import subprocess
import sys

import pytest
import spacy
from thinc.api import fix_random_seed

from ..util import make_examples


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    fix_random_seed(0)
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_ner")
    egs = make_examples(nlp)
    nlp.initialize(lambda: egs)
    path = tmp_path_factory.mktemp("crf") / "model"
    nlp.to_disk(path)
    return path


@pytest.fixture
def copy(model_dir, tmp_path):
    import shutil

    dst = tmp_path / "model"
    shutil.copytree(model_dir, dst)
    return dst


def test_intact_model_loads(copy):
    crf = spacy.load(copy).get_pipe("crf_ner")
    assert "tags_sha256" in crf.cfg


@pytest.mark.parametrize(
    "damage,problem",
    [
        (lambda d: (d / "crf_ner" / "cfg").unlink(), "cfg is missing"),
        (lambda d: (d / "crf_ner" / "cfg").write_text('{"labels": ["name", ', encoding="utf8"), "cfg is not valid JSON"),
        (lambda d: (d / "crf_ner" / "cfg").write_text("[1, 2]", encoding="utf8"), "cfg is not a crf_ner cfg"),
        (lambda d: (d / "crf_ner" / "model").write_bytes((d / "crf_ner" / "model").read_bytes()[:1000]), "model cannot be read"),
        (lambda d: (d / "crf_ner" / "model").unlink(), "model is missing"),
    ],
    ids=["cfg missing", "cfg truncated", "cfg not an object", "weights truncated", "weights missing"],
)
def test_damaged_files_are_one_error_naming_the_file(copy, damage, problem):
    damage(copy)
    with pytest.raises(OSError, match=r"\[E017\]") as err:
        spacy.load(copy)
    assert str(copy / "crf_ner") in str(err.value) and problem in str(err.value)


@pytest.mark.parametrize("edit", ["rename", "reorder"])
def test_labels_renamed_or_reordered_in_cfg_are_refused(copy, edit):
    cfg_path = copy / "crf_ner" / "cfg"
    cfg = json.loads(cfg_path.read_text(encoding="utf8"))
    cfg["labels"] = [*cfg["labels"][:-1], "renamed"] if edit == "rename" else list(reversed(cfg["labels"]))
    cfg_path.write_text(json.dumps(cfg), encoding="utf8")
    with pytest.raises(OSError, match=r"\[E018\]"):
        spacy.load(copy)


def test_model_saved_without_checksum_still_loads(copy):
    cfg_path = copy / "crf_ner" / "cfg"
    cfg = json.loads(cfg_path.read_text(encoding="utf8"))
    cfg.pop("tags_sha256", None)
    cfg_path.write_text(json.dumps(cfg), encoding="utf8")
    spacy.load(copy)


@pytest.mark.slow
def test_predict_cli_with_truncated_weights_is_one_line(copy, tmp_path):
    weights = copy / "crf_ner" / "model"
    weights.write_bytes(weights.read_bytes()[:1000])
    inp = tmp_path / "in.json"
    inp.write_text('{"text": "张三"}\n', encoding="utf8")
    proc = subprocess.run([sys.executable, "-m", "spacy_cluener", "predict", str(copy), str(inp), str(tmp_path / "o.json")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert str(weights) in proc.stderr
