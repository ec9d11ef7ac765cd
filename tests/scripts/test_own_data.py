"""scripts/own_data.py, the conversion step of the `own-data` workflow (the
workflow itself, CLUENER format with a dev file, is run by tests/test_project.py)."""
import subprocess
import sys

import pytest
import spacy
from spacy.tokens import DocBin

from ..util import REPO

pytestmark = pytest.mark.slow  # a subprocess per case

SCRIPT = REPO / "scripts" / "own_data.py"


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=300)


def docs(path):
    return list(DocBin().from_disk(path).get_docs(spacy.blank("zh").vocab))


def bmes(path, sentences):
    path.write_text("\n\n".join("\n".join(f"{c}\t{t}" for c, t in s) for s in sentences) + "\n", encoding="utf-8")
    return path


SENTENCE = [("张", "B-PER"), ("三", "E-PER"), ("在", "O"), ("北", "B-LOC"), ("京", "M-LOC"), ("市", "E-LOC")]


def test_bmes_without_dev_holds_out_ten_percent(tmp_path):
    train = bmes(tmp_path / "train.txt", [SENTENCE] * 20)
    test = bmes(tmp_path / "test.txt", [SENTENCE] * 3)
    out = tmp_path / "corpus"
    proc = run(train, "", test, "--format", "conll", "--scheme", "BMES", "--output-dir", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [len(docs(out / f"own-{s}.spacy")) for s in ("train", "dev", "test")] == [18, 2, 3]
    assert [(e.text, e.label_) for e in docs(out / "own-test.spacy")[0].ents] == [("张三", "PER"), ("北京市", "LOC")]
    assert "held out 2 of 20 train docs" in proc.stdout


def test_bad_record_stops_unless_skip_invalid(tmp_path):
    train = bmes(tmp_path / "train.txt", [SENTENCE, [("李", "B-PER"), ("四", "O")], SENTENCE])  # B -> O is illegal
    out = tmp_path / "corpus"
    proc = run(train, train, train, "--format", "conll", "--scheme", "BMES", "--output-dir", out)
    assert proc.returncode == 1
    assert f"{train}:" in proc.stderr and "rejected: " in proc.stderr and "illegal BMES sequence" in proc.stderr
    assert not out.exists()
    proc = run(train, train, train, "--format", "conll", "--scheme", "BMES", "--skip-invalid", "true", "--output-dir", out)
    assert proc.returncode == 0, proc.stderr
    assert "read 3, written 2, rejected 1" in proc.stdout
    assert len(docs(out / "own-dev.spacy")) == 2
