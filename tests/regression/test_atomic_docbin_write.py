"""`convert` writes its DocBin atomically: a failure while serialising (a full
disk, a kill, here a to_bytes that raises) leaves the previous file intact and
no temporary file behind."""
import pytest
import spacy
from spacy.tokens import DocBin

from spacy_cluener.converters import write_docbin


def test_failed_write_leaves_previous_docbin_intact(tmp_path, monkeypatch):
    nlp = spacy.blank("zh")
    path = tmp_path / "corpus.spacy"
    write_docbin(DocBin(docs=[nlp("张三在北京")]), path)
    before = path.read_bytes()

    def fails_midway(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(DocBin, "to_bytes", fails_midway)
    with pytest.raises(OSError, match="No space left"):
        write_docbin(DocBin(docs=[nlp("李四")]), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.spacy"]
    docs = list(DocBin().from_bytes(before).get_docs(nlp.vocab))
    assert [d.text for d in docs] == ["张三在北京"]
