"""scripts/split_corpus.py never overwrites its input (it read IN, then wrote
the train part over it)."""
import subprocess
import sys

import spacy
from spacy.tokens import DocBin

from ..util import REPO


def split(*args):
    return subprocess.run([sys.executable, str(REPO / "scripts" / "split_corpus.py"), *map(str, args)],
                          capture_output=True, text=True)


def test_split_refuses_to_overwrite_its_input(tmp_path):
    nlp = spacy.blank("zh")
    corpus = tmp_path / "all.spacy"
    DocBin(docs=[nlp.make_doc(t) for t in ("张三", "李四", "王五", "赵六")]).to_disk(corpus)
    before = corpus.read_bytes()
    proc = split(corpus, corpus, tmp_path / "dev.spacy", "--dev-fraction", "0.5")
    assert proc.returncode == 1 and "is the input file" in proc.stderr
    assert corpus.read_bytes() == before and not (tmp_path / "dev.spacy").exists()
    same = split(corpus, tmp_path / "x.spacy", tmp_path / "x.spacy", "--dev-fraction", "0.5")
    assert same.returncode == 1 and "the same file" in same.stderr
    ok = split(corpus, tmp_path / "train.spacy", tmp_path / "dev.spacy", "--dev-fraction", "0.5")
    assert ok.returncode == 0, ok.stderr
    assert "4 docs -> 2 train" in ok.stdout
