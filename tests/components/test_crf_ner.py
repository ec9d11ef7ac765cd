import random

import numpy
import pytest
import spacy
from spacy.training import Example
from thinc.api import Model, fix_random_seed

from spacy_cluener.scoring import score_entities

from ..util import SMALL_MODEL, TRAIN_DATA, ents, make_examples


@pytest.fixture(params=["BIO", "BIOES"])
def trained(request):
    fix_random_seed(0)
    nlp = spacy.blank("zh")
    ner = nlp.add_pipe("crf_ner", config={"model": SMALL_MODEL, "scheme": request.param})
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    losses = []
    for _ in range(60):
        step = {}
        nlp.update(examples, sgd=optimizer, losses=step)
        losses.append(step["crf_ner"])
    return nlp, ner, losses


def test_overfitting_IO(trained, tmp_path):
    nlp, ner, losses = trained
    assert losses[-1] < losses[0] / 100
    assert ner.labels == ("address", "company", "name", "position", "scene")
    for text, gold in TRAIN_DATA:
        assert ents(nlp(text)) == gold
    scores = nlp.evaluate(make_examples(nlp))
    assert scores["ents_f"] == 1.0 and scores["ents_macro_f"] == 1.0
    # to_disk / from_disk, to_bytes / from_bytes round-trip predictions and cfg
    nlp.to_disk(tmp_path / "model")
    nlp2 = spacy.load(tmp_path / "model")
    nlp3 = spacy.blank("zh")
    nlp3.add_pipe("crf_ner", config={"model": SMALL_MODEL, "scheme": ner.scheme})
    nlp3.from_bytes(nlp.to_bytes())
    for other in (nlp2, nlp3):
        assert other.get_pipe("crf_ner").cfg == ner.cfg
        for text, gold in TRAIN_DATA:
            assert ents(other(text)) == gold


def test_scheme_is_stored_not_inferred(trained, tmp_path):
    nlp, ner, _ = trained
    nlp.to_disk(tmp_path / "m")
    # the config on disk says BIOES by default; the stored cfg wins
    loaded = spacy.load(tmp_path / "m").get_pipe("crf_ner")
    assert loaded.scheme == ner.scheme
    assert loaded.tag_names == ner.tag_names


def test_batch_padding_and_order_do_not_change_predictions(trained):
    nlp, _, _ = trained
    texts = [t for t, _ in TRAIN_DATA] + ["张三" * 40, "", "广州"]
    alone = [ents(nlp(t)) for t in texts]
    for batch_size in (1, 3, 16):
        assert [ents(d) for d in nlp.pipe(texts, batch_size=batch_size)] == alone
    order = list(range(len(texts)))
    random.Random(0).shuffle(order)
    shuffled = list(nlp.pipe([texts[i] for i in order], batch_size=16))
    assert [ents(shuffled[order.index(i)]) for i in range(len(texts))] == alone


def test_labels_from_initialize_and_added_after(tmp_path):
    nlp = spacy.blank("zh")
    ner = nlp.add_pipe("crf_ner", config={"model": SMALL_MODEL})
    nlp.initialize(lambda: make_examples(nlp), )
    nlp2 = spacy.blank("zh")
    ner2 = nlp2.add_pipe("crf_ner", config={"model": SMALL_MODEL})
    ner2.initialize(lambda: make_examples(nlp2), nlp=nlp2, labels=["name", "game"])
    assert ner2.labels == ("name", "game")
    assert ner2.label_data == ["name", "game"]
    # after initialization the model grows (issue 23), as spaCy's ner does
    assert ner.add_label("movie") == 1 and "movie" in ner.labels
    assert ner.crf.emissions.weight.shape[0] == len(ner.tag_names)
    assert ner.add_label("name") == 0


def test_initialize_without_entities_fails_clearly():
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_ner", config={"model": SMALL_MODEL})
    examples = [Example.from_dict(nlp.make_doc("没有实体"), {"entities": []})]
    with pytest.raises(ValueError, match="has no labels"):
        nlp.initialize(lambda: examples)


def test_macro_f_is_mean_of_types():
    nlp = spacy.blank("zh")
    gold = nlp.make_doc("张三在上海")
    gold.ents = [gold.char_span(0, 2, "name"), gold.char_span(3, 5, "address")]
    pred = nlp.make_doc("张三在上海")
    pred.ents = [pred.char_span(0, 2, "name")]
    scores = score_entities([Example(pred, gold)])
    assert scores["ents_per_type"]["name"]["f"] == 1.0
    assert scores["ents_per_type"]["address"]["f"] == 0.0
    assert scores["ents_macro_f"] == pytest.approx(0.5)
    assert scores["ents_f"] == pytest.approx(2 / 3)


def test_whitespace_tokens_are_never_in_entities(trained, monkeypatch):
    nlp, ner, _ = trained
    doc = nlp.make_doc("张三  李四\n\n北京")
    spaces = [t.i for t in doc if t.is_space]
    assert spaces  # standalone whitespace tokens, not just token.whitespace_
    tag = "B-name" if ner.scheme == "BIO" else "S-name"
    scores = numpy.zeros((len(doc), len(ner.tag_names)), dtype="f")
    scores[:, ner.tag_names.index(tag)] = 50.0
    # without the rule, these emissions put every token, whitespace included, in an entity
    assert all(ner.tag_names[i] == tag for i in ner._decode([scores])[0])
    model_predict = Model.predict  # a Model's attributes are read-only: patch the class, for this model only
    monkeypatch.setattr(
        Model, "predict", lambda self, X: [scores.copy() for _ in X] if self is ner.model else model_predict(self, X)
    )
    doc = ner(doc)
    assert [t.i for t in doc if t.ent_iob_ == "O"] == spaces
    assert len(doc.ents) == len(doc) - len(spaces)
