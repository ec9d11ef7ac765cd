"""Prediction on any text: no crash, and every entity's offsets are valid
(0 <= start < end <= len(text), text[start:end] == entity) — through
`nlp(text)`, `nlp.pipe` and the `predict` CLI, for the CNN pipeline."""
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from spacy_cluener.cli import app

from .conftest import assert_valid_offsets

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


@pytest.mark.parametrize("name", list(ODD_TEXTS))
def test_odd_texts_predict_valid_offsets(cnn_nlp, name):
    text = ODD_TEXTS[name]
    start = time.perf_counter()
    doc = cnn_nlp(text)
    assert_valid_offsets(doc, text)
    if name == "long":
        assert len(doc) == 20_000 and len(doc.ents) > 100
        print(f"20,000 characters: {time.perf_counter() - start:.2f}s, {len(doc.ents)} entities")


def test_odd_texts_together_in_batches(cnn_nlp):
    texts = list(ODD_TEXTS.values())
    alone = [[(e.start_char, e.end_char, e.label_) for e in cnn_nlp(t).ents] for t in texts]
    for batch_size in (1, 4, 64):
        docs = list(cnn_nlp.pipe(texts, batch_size=batch_size))
        for text, doc in zip(texts, docs):
            assert_valid_offsets(doc, text)
        assert [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs] == alone


TEXT = st.text(
    st.one_of(
        st.characters(codec="utf-8"),  # anything encodable, control characters included
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from(list("张三李四王五上海北京广州腾讯 \u3000")),
    ),
    max_size=80,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(TEXT, min_size=1, max_size=6))
def test_random_text_predicts_valid_offsets(cnn_nlp, texts):
    for text, doc in zip(texts, cnn_nlp.pipe(texts, batch_size=3)):
        assert_valid_offsets(doc, text)


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


def test_predict_cli_on_odd_texts(cnn_model_dir, tmp_path):
    assert predict_odd_texts(cnn_model_dir, tmp_path) > 100  # the long text alone has hundreds


def test_text_over_max_length_is_spacys_E088(cnn_nlp):
    with pytest.raises(ValueError, match=r"\[E088\]"):
        cnn_nlp("张" * (cnn_nlp.max_length + 1))
