"""configs/trf_crf.cfg end to end on a tiny random BERT: `spacy train`,
debug-alignment on the result, save/load, and a 2,000-character doc."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.training import Example
from typer.testing import CliRunner

from spacy_cluener.cli import app
from spacy_cluener.debugging import check_alignment
from spacy_cluener.tag_schemes import tag_names

from ..util import TRF_CONFIG

pytestmark = pytest.mark.slow  # spacy train in a subprocess


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_bert, cluener_slices) -> Path:
    out = tmp_path_factory.mktemp("trf_train")
    cmd = [
        sys.executable, "-m", "spacy", "train", str(TRF_CONFIG), "--output", str(out),
        "--components.transformer.model.name", str(tiny_bert),
        "--training.max_steps", "4", "--training.eval_frequency", "2",
        "--paths.train", str(cluener_slices["train"]), "--paths.dev", str(cluener_slices["dev"]),
    ]
    env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **os.environ}
    # cwd outside the repo: the installed package is imported, as by a user
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=out, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "ENTS_MACRO_F" in proc.stdout
    return out / "model-last"


def long_text(texts, n_chars=2000):
    text = ""
    while len(text) < n_chars:
        text += "".join(texts)
    return text[:n_chars]


def test_debug_alignment_passes_on_trained_pipeline(trained, cluener_slices):
    result = CliRunner().invoke(
        app, ["debug-alignment", str(trained), str(cluener_slices["dev"]), "--n", "6", "--batch-size", "3"]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    # one row per wordpiece, specials and the padding of the shorter docs included
    for piece in ("[CLS]", "[SEP]", "[PAD]"):
        assert piece in out
    assert out.count("\ndoc ") + out.startswith("doc ") == 6
    assert "OK: every token has a wordpiece" in out


def test_save_load_and_2000_char_doc(trained, cluener_slices, tmp_path):
    nlp = spacy.load(trained)
    crf = nlp.get_pipe("crf_ner")
    text = long_text(cluener_slices["texts"])
    doc = nlp(text)
    assert len(doc) == 2000 and doc.text == text
    # strided windows: more than one, none over BERT's 512 wordpieces
    wps = doc._.trf_data.wordpieces
    assert len(wps) > 1 and wps.input_ids.shape[1] <= 512
    labels = set(crf.labels)
    for ent in doc.ents:
        assert ent.label_ in labels and 0 <= ent.start < ent.end <= len(doc)
    # the decoded tags are a legal sequence of the scheme, every token tagged
    assert all(t.ent_iob_ in ("B", "I", "O") for t in doc)
    assert set(crf.tag_names) == set(tag_names(crf.labels, crf.scheme))
    report = check_alignment(nlp, [Example(nlp.make_doc(text), nlp.make_doc(text))])
    assert report.ok, report.problems[:5]
    # save / load round trip
    nlp.to_disk(tmp_path / "copy")
    nlp2 = spacy.load(tmp_path / "copy")
    assert nlp2.get_pipe("crf_ner").cfg == crf.cfg
    doc2 = nlp2(text)
    assert [(e.start, e.end, e.label_) for e in doc2.ents] == [(e.start, e.end, e.label_) for e in doc.ents]
    nlp3 = spacy.load(trained)
    nlp3.from_bytes(nlp.to_bytes())
    assert [(e.start, e.end, e.label_) for e in nlp3(text[:300]).ents] == [
        (e.start, e.end, e.label_) for e in nlp(text[:300]).ents
    ]
