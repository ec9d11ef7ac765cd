"""Prediction on any text through the transformer pipeline (configs/trf_crf.cfg
on the tiny BERT), with and without the BiLSTM: the odd texts of
tests/robustness/test_predict_anything.py, alone, in mixed batches (an empty
text next to a real one), random texts, and the `predict` CLI."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy import util
from thinc.api import fix_random_seed

from ..util import ODD_TEXTS, TEXT, TRF_CONFIG, assert_valid_offsets, make_examples, predict_odd_texts


def trf_nlp(tiny_bert, depth: int):
    config = util.load_config(
        TRF_CONFIG,
        overrides={
            "components.transformer.model.name": str(tiny_bert),
            "components.crf_ner.model.encoder.depth": depth,
            "components.crf_ner.model.encoder.hidden_width": 16,
        },
        interpolate=False,
    ).interpolate()
    fix_random_seed(0)
    nlp = util.load_model_from_config(config, auto_fill=True, validate=True)
    egs = make_examples(nlp)
    nlp.initialize(lambda: egs)
    return nlp


@pytest.fixture(scope="module", params=[0, 1], ids=["no-bilstm", "bilstm"])
def nlp(request, tiny_bert):
    return trf_nlp(tiny_bert, request.param)


def _ents(doc):
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def test_empty_text_in_mixed_batch(nlp):
    docs = list(nlp.pipe(["张三在北京", ""]))
    assert [d.text for d in docs] == ["张三在北京", ""]
    assert _ents(docs[0]) == _ents(nlp("张三在北京")) and not docs[1].ents


@pytest.mark.parametrize("name", list(ODD_TEXTS))
def test_odd_texts_predict_valid_offsets(nlp, name):
    text = ODD_TEXTS[name]
    doc = nlp(text)
    assert_valid_offsets(doc, text)
    assert len(doc) == len(nlp.make_doc(text))


def test_odd_texts_together_in_batches(nlp):
    texts = [t for n, t in ODD_TEXTS.items() if n != "long"]
    alone = [_ents(nlp(t)) for t in texts]
    for batch_size in (1, 4, 64):
        docs = list(nlp.pipe(texts, batch_size=batch_size))
        for text, doc in zip(texts, docs):
            assert_valid_offsets(doc, text)
        assert [_ents(d) for d in docs] == alone


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXT, min_size=1, max_size=6))
def test_random_text_predicts_valid_offsets(nlp, texts):
    for text, doc in zip(texts, nlp.pipe(texts, batch_size=3)):
        assert_valid_offsets(doc, text)


@pytest.mark.slow
def test_predict_cli_on_odd_texts(nlp, tmp_path):
    model = tmp_path / "model"
    nlp.to_disk(model)
    predict_odd_texts(model, tmp_path)
