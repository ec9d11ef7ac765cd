"""crf_ner as a drop-in for spaCy's `ner` (issue 23), beyond spaCy's own tests
(test_ner_contracts_*): preset entities and blocked tokens kept by
constrained decoding, two recognizers in one pipeline, labels grown after
training, pickling and `n_process` with spawn, settings from the config."""
import multiprocessing
import pickle

import numpy
import pytest
import spacy
from spacy.tokens import Span

from ..util import SMALL_MODEL, TRAIN_DATA, ents, make_examples, train_small_crf

TEXTS = [t for t, _ in TRAIN_DATA] + ["王五去了北京", "张三  李四"]


@pytest.fixture(scope="module", params=["BIO", "BIOES"])
def trained(request):
    return train_small_crf(60, scheme=request.param, scores=True)


def test_preset_entities_kept_and_model_predicts_around_them(trained):
    ner = trained.get_pipe("crf_ner")
    doc = trained.make_doc("张三在上海工作")
    assert ents(trained(doc.text)) == [(0, 2, "name"), (3, 5, "address")]
    # a preset entity of another label, with a kb_id, over what the model calls an address
    doc.ents = [Span(doc, 3, 5, label="company", kb_id="Q1")]
    doc = ner(doc)
    assert ents(doc) == [(0, 2, "name"), (3, 5, "company")]
    assert doc.ents[1].kb_id_ == "Q1"
    # only the predicted entity is in the component's spans, with its score
    group = doc.spans["crf_ner"]
    assert [(s.start, s.end, s.label_) for s in group] == [(0, 2, "name")]
    assert len(group.attrs["scores"]) == 1 and 0.0 < group.attrs["scores"][0] <= 1.0


def test_preset_cutting_a_predicted_entity_and_unknown_label(trained):
    ner = trained.get_pipe("crf_ner")
    doc = trained.make_doc("张三在上海工作")
    # a one-token preset inside the predicted "name", with a label the model does not know
    doc.ents = [Span(doc, 1, 2, label="UNSEEN")]
    doc = ner(doc)
    assert (1, 2, "UNSEEN") in ents(doc)
    assert all(not (e.start < 2 and e.end > 1) or e.label_ == "UNSEEN" for e in doc.ents)
    assert "UNSEEN" in ner.labels  # as spaCy's ner: a preset label joins the labels


def test_blocked_tokens_get_no_entity(trained):
    ner = trained.get_pipe("crf_ner")
    doc = trained.make_doc("张三在上海工作")
    doc.set_ents([], blocked=[doc[3:5]], default="unmodified")
    doc = ner(doc)
    assert [t.ent_iob_ for t in doc[3:5]] == ["B", "B"] and [t.ent_type_ for t in doc[3:5]] == ["", ""]
    assert ents(doc) == [(0, 2, "name")]


def test_two_recognizers_do_not_wipe_each_other(trained):
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_ner", name="first", source=pickle.loads(pickle.dumps(trained)))
    # an untrained second recognizer predicts nothing: it must keep the first's entities
    second = nlp.add_pipe("crf_ner", name="second", config={"model": SMALL_MODEL})
    second.initialize(lambda: make_examples(nlp), nlp=nlp)
    doc = nlp("张三在上海工作")
    assert ents(doc) == [(0, 2, "name"), (3, 5, "address")]
    assert len(doc.spans["crf_ner"]) == 0  # second's own predictions: none


def test_nothing_preset_is_plain_viterbi(trained):
    ner = trained.get_pipe("crf_ner")
    docs = [trained.make_doc(t) for t in TEXTS]
    scores = ner.model.predict(docs)
    plain = ner._decode(scores)
    spaces = [d.to_array("IS_SPACE").astype(bool) for d in docs]
    assert all((a == b).all() for a, b in zip(ner.predict(docs).tag_ids, ner._decode(scores, spaces)))
    # docs without whitespace: the same as no constraint at all
    for i, doc in enumerate(docs):
        if not spaces[i].any():
            assert (plain[i] == ner.predict([doc]).tag_ids[0]).all()


def test_add_label_after_training_keeps_predictions_and_masks(trained):
    nlp = pickle.loads(pickle.dumps(trained))
    ner = nlp.get_pipe("crf_ner")
    before = [ents(d) for d in nlp.pipe(TEXTS)]
    crf = ner.crf
    names = list(ner.tag_names)
    trans = crf.crf.transitions.detach().clone()
    assert ner.add_label("game") == 1
    assert [ents(d) for d in nlp.pipe(TEXTS)] == before
    grown = ner.crf
    assert grown.crf.transitions.shape[0] == len(ner.tag_names) > len(names)
    assert bool((grown.crf.transitions[: len(names), : len(names)] == trans).all())
    # the new tags' forbidden moves are forbidden (I-game after O)
    index = ner.tag_index()
    assert float(grown.crf.transitions[index["O"], index["I-game"]].detach()) == -10000.0
    # and it trains with the new label, saves and loads
    examples = make_examples(nlp, TRAIN_DATA + [("我玩王者荣耀", [(2, 6, "game")])])
    optimizer = nlp.resume_training()
    for _ in range(3):
        nlp.update(examples, sgd=optimizer)
    loaded = spacy.blank("zh")
    loaded.add_pipe("crf_ner", config={"model": SMALL_MODEL, "scheme": ner.scheme})
    loaded.from_bytes(nlp.to_bytes())
    assert loaded.get_pipe("crf_ner").labels == ner.labels


def _favour(ner, label: str, bias: float = 50.0) -> None:
    """Make every tag of `label` far the best emission on every token: what an
    untrained label's weights are not, but nothing else keeps it out."""
    import torch

    with torch.no_grad():
        for name, i in ner.tag_index().items():
            if name != "O" and name[2:] == label:
                ner.crf.emissions.bias[i] += bias


def test_added_label_is_not_predicted_until_trained(trained):
    """A label added to a trained model (add_label, or a preset entity's
    label at predict) is never predicted, and the other entities and their
    scores do not move, until a gold entity of it is trained on: spaCy's
    `ner` masks its unseen classes so."""
    nlp = pickle.loads(pickle.dumps(trained))
    ner = nlp.get_pipe("crf_ner")
    before = [(ents(d), list(d.spans["crf_ner"].attrs["scores"])) for d in nlp.pipe(TEXTS)]
    ner.add_label("product")
    _favour(ner, "product")
    after = [(ents(d), list(d.spans["crf_ner"].attrs["scores"])) for d in nlp.pipe(TEXTS)]
    assert [e for e, _ in after] == [e for e, _ in before]
    for (_, a), (_, b) in zip(after, before):
        numpy.testing.assert_allclose(a, b, rtol=1e-5)
    assert "product" in ner.cfg["unseen_labels"]
    # the same for one doc at a time (numpy decoding) and after a round trip
    assert [ents(nlp(t)) for t in TEXTS] == [e for e, _ in before]
    loaded = spacy.blank("zh")
    loaded.add_pipe("crf_ner", config={"model": SMALL_MODEL, "scheme": ner.scheme})
    loaded.from_bytes(nlp.to_bytes())
    assert [ents(d) for d in loaded.pipe(TEXTS)] == [e for e, _ in before]
    # a preset entity of an unseen label (a ruler) is kept, and masks nothing else
    ruler = nlp.add_pipe("entity_ruler", before="crf_ner")
    ruler.add_patterns([{"label": "device", "pattern": "北京"}])
    doc = nlp("王五去了北京")
    assert ("device" in ner.cfg["unseen_labels"]) and (4, 6, "device") in ents(doc)
    assert all(label != "product" for _, _, label in ents(doc))
    nlp.remove_pipe("entity_ruler")
    # trained on a gold entity of it: predicted (here everywhere: its tags' emissions were pushed up)
    optimizer = nlp.resume_training()
    nlp.update(make_examples(nlp, [("我用苹果手机", [(2, 6, "product")])]), sgd=optimizer, drop=0.0)
    assert "product" not in ner.cfg["unseen_labels"]
    _favour(ner, "product")
    assert any(label == "product" for d in nlp.pipe(TEXTS) for _, _, label in ents(d))


def test_initialize_again_starts_the_head_afresh(trained):
    """nlp.initialize() on a trained pipeline builds a new CRF head, as it
    re-initializes the tok2vec (and spaCy's `ner` its weights): the emission
    layer and the transitions start at zero again, not trained weights on a
    random encoder."""
    nlp = pickle.loads(pickle.dumps(trained))
    ner = nlp.get_pipe("crf_ner")
    assert bool(ner.crf.emissions.weight.detach().abs().sum() > 0)
    ner.add_label("product")
    nlp.initialize(lambda: make_examples(nlp))
    assert float(ner.crf.emissions.weight.detach().abs().sum()) == 0.0
    assert float(ner.crf.emissions.bias.detach().abs().sum()) == 0.0
    assert ner.cfg["unseen_labels"] == [] and "product" in ner.labels
    # and it trains from there
    optimizer = nlp.resume_training()
    for _ in range(30):
        nlp.update(make_examples(nlp), sgd=optimizer, drop=0.0)
    assert ents(nlp(TRAIN_DATA[0][0])) == TRAIN_DATA[0][1]


def test_training_drops_the_calibration(trained):
    """The calibration was fitted to the weights before training: an update
    drops it (W005) rather than keep a temperature and maps that no longer
    hold."""
    nlp = pickle.loads(pickle.dumps(trained))
    ner = nlp.get_pipe("crf_ner")
    ner.temperature = 1.7
    ner.cfg["calibration"] = {"version": 1, "temperature": 1.7, "per_type": {"name": {"method": "platt", "a": 2.0,
                                                                                     "b": 0.0}}}
    optimizer = nlp.resume_training()
    with pytest.warns(UserWarning, match=r"\[W005\]"):
        nlp.update(make_examples(nlp), sgd=optimizer)
    assert ner.cfg["calibration"] is None and ner.temperature == 1.0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nlp.update(make_examples(nlp), sgd=optimizer)  # nothing left to drop: no second warning


def test_no_span_group_for_pipelines_that_retokenize(trained):
    """spans_key = null: no doc.spans group, so `merge_entities` after crf_ner
    leaves a doc that serializes (spaCy's retokenizer does not move span
    groups: with one, to_bytes raises E035); the threshold still filters."""
    nlp = pickle.loads(pickle.dumps(trained))
    expected = [ents(d) for d in nlp.pipe(TEXTS)]
    # a text whose last entity ends past the merged doc's length
    text = next(t for t, e in zip(TEXTS, expected)
                if len(e) > 1 and max(end for _, end, _ in e) > len(t) - sum(end - start - 1 for start, end, _ in e))
    doc = nlp(text)
    scored = list(zip(ents(doc), doc.spans["crf_ner"].attrs["scores"]))
    nlp.add_pipe("merge_entities")
    with pytest.raises(IndexError, match="E035"):
        nlp(text).to_bytes()  # spaCy's retokenizer and a span group
    ner = nlp.get_pipe("crf_ner")
    ner.spans_key = None
    assert nlp.get_pipe_config("crf_ner")["spans_key"] is None
    for t, e in zip(TEXTS, expected):
        doc = nlp(t)
        assert not doc.spans and [(x.start_char, x.end_char, x.label_) for x in doc.ents] == e
        doc.to_bytes()
    ner.threshold = t = float(numpy.median([score for _, score in scored]))
    assert [(x.start_char, x.end_char, x.label_) for x in nlp(text).ents] == [e for e, score in scored if score >= t]
    with pytest.raises(ValueError, match="E050"):
        ner.spans_key = ""


def test_pickle_and_spawn_processes(trained):
    nlp = pickle.loads(pickle.dumps(trained))
    expected = [ents(d) for d in trained.pipe(TEXTS)]
    assert [ents(d) for d in nlp.pipe(TEXTS)] == expected
    # spaCy's n_process under the spawn start method (the default on macOS
    # and Windows), whatever this platform's default is
    from spacy import language

    ctx = multiprocessing.get_context("spawn")
    original = language.mp
    language.mp = ctx
    try:
        docs = list(nlp.pipe(TEXTS, n_process=2, batch_size=2))
    finally:
        language.mp = original
    assert [ents(d) for d in docs] == expected


def test_uninitialized_pipeline_saves_and_loads(tmp_path):
    nlp = spacy.blank("zh")
    ner = nlp.add_pipe("crf_ner", config={"model": SMALL_MODEL})
    ner.add_label("name")
    nlp.to_disk(tmp_path / "m")
    loaded = spacy.load(tmp_path / "m")
    assert loaded.get_pipe("crf_ner").labels == ("name",)
    loaded.initialize(lambda: make_examples(loaded))
    assert loaded.get_pipe("crf_ner").crf is not None


def test_config_settings_win_and_are_saved(trained, tmp_path):
    nlp = pickle.loads(pickle.dumps(trained))
    ner = nlp.get_pipe("crf_ner")
    ner.threshold = 0.4
    ner.spans_key = "mine"
    ner.expected_errors = True
    nlp.to_disk(tmp_path / "m")
    config = spacy.util.load_config(tmp_path / "m" / "config.cfg")
    assert config["components"]["crf_ner"]["threshold"] == 0.4
    assert config["components"]["crf_ner"]["spans_key"] == "mine"
    assert config["components"]["crf_ner"]["expected_errors"] is True
    loaded = spacy.load(tmp_path / "m").get_pipe("crf_ner")
    assert loaded.threshold == 0.4 and loaded.spans_key == "mine" and loaded.expected_errors
    assert "expected_errors" in loaded.pipe([nlp.make_doc("张三在上海")]).__next__().spans["mine"].attrs
    over = spacy.load(tmp_path / "m", config={"components.crf_ner.threshold": 0.0,
                                               "components.crf_ner.scores": False,
                                               "components.crf_ner.spans_key": "k",
                                               "components.crf_ner.expected_errors": False})
    comp = over.get_pipe("crf_ner")
    assert comp.threshold == 0.0 and not comp.with_scores and comp.spans_key == "k" and not comp.expected_errors
    # what the weights depend on is the saved cfg's
    assert comp.labels == ner.labels and comp.scheme == ner.scheme and comp.cfg["nI"] == ner.cfg["nI"]
    # a threshold alone turns the scores on (spacy find-threshold sets only it)
    only = spacy.load(tmp_path / "m", config={"components.crf_ner.scores": False,
                                               "components.crf_ner.threshold": 0.5})
    assert only.get_pipe("crf_ner").with_scores
    assert "scores" in only("张三在上海").spans["mine"].attrs


def test_settings_are_validated(trained):
    ner = trained.get_pipe("crf_ner")
    with pytest.raises(ValueError, match="E019"):
        ner.threshold = 1.5
    with pytest.raises(ValueError, match="E050"):
        ner.spans_key = ""
    with pytest.raises(ValueError, match="E051"):
        ner.temperature = 0.0
    assert numpy.isfinite(ner.temperature)
