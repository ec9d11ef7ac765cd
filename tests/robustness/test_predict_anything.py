"""Prediction on any text: no crash, and every entity's offsets are valid
(0 <= start < end <= len(text), text[start:end] == entity) — through
`nlp(text)`, `nlp.pipe` and the `predict` CLI, for the CNN pipeline."""
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..util import ODD_TEXTS, TEXT, assert_valid_offsets, predict_odd_texts


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


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(TEXT, min_size=1, max_size=6))
def test_random_text_predicts_valid_offsets(cnn_nlp, texts):
    for text, doc in zip(texts, cnn_nlp.pipe(texts, batch_size=3)):
        assert_valid_offsets(doc, text)


def test_predict_cli_on_odd_texts(cnn_model_dir, tmp_path):
    assert predict_odd_texts(cnn_model_dir, tmp_path) > 100  # the long text alone has hundreds


def test_text_over_max_length_is_spacys_E088(cnn_nlp):
    with pytest.raises(ValueError, match=r"\[E088\]"):
        cnn_nlp("张" * (cnn_nlp.max_length + 1))
