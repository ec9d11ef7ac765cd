"""scripts/entity_wordlist.py: a labelled corpus -> a user dictionary the lexicon reads."""
import subprocess
import sys

import pytest
import spacy
from spacy.tokens import Doc, DocBin

from spacy_cluener.lexicon import POS_CLASSES, Lexicon

from ..util import REPO

pytestmark = pytest.mark.slow  # a subprocess per case

SCRIPT = REPO / "scripts" / "entity_wordlist.py"


def corpus(path):
    vocab = spacy.blank("zh").vocab
    def doc(text, ents):
        return Doc(vocab, words=list(text), spaces=[False] * len(text), ents=ents)

    docs = [
        doc("叶老桂在浙商银行", ["B-name", "I-name", "I-name", "O", "B-company", "I-company", "I-company", "I-company"]),
        doc("浙商银行", ["B-organization", "I-organization", "I-organization", "I-organization"]),
    ]
    DocBin(docs=docs).to_disk(path)


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def test_wordlist_is_a_user_dictionary(tmp_path):
    corpus(tmp_path / "train.spacy")
    out = tmp_path / "words" / "user.txt"
    result = run(tmp_path / "train.spacy", out, "--tag", "name=nr", "--tag", "company=nt")
    assert result.returncode == 0, result.stderr
    assert "3 entities -> 2 words" in result.stdout and "1 duplicates, 0 rejected" in result.stdout
    assert out.read_text(encoding="utf8") == "叶老桂 nr\n浙商银行 nt\n"
    lexicon = Lexicon.from_files(None, [str(out)], max_length=8)
    assert [(w, POS_CLASSES[c]) for w, c in zip(lexicon.words, lexicon.classes)] == [
        ("叶老桂", "person"), ("浙商银行", "organisation")]
    assert [f.name for f in out.parent.iterdir()] == ["user.txt"]  # no temp file left


def test_bad_tag_and_own_input_are_one_line_errors(tmp_path):
    corpus(tmp_path / "train.spacy")
    bad = run(tmp_path / "train.spacy", tmp_path / "user.txt", "--tag", "name")
    assert bad.returncode != 0 and "expected LABEL=TAG" in bad.stderr
    bad = run(tmp_path / "train.spacy", tmp_path / "user.txt", "--tag", "name=n-r")
    assert bad.returncode != 0 and "must be letters" in bad.stderr
    same = run(tmp_path / "train.spacy", tmp_path / "train.spacy")
    assert same.returncode != 0 and "is the input corpus" in same.stderr
    assert not (tmp_path / "user.txt").exists()
