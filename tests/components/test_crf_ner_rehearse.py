"""`nlp.resume_training()` + `nlp.rehearse`: crf_ner trains towards the
paths its copy from `resume_training` predicts (it was a silent no-op:
TrainablePipe.rehearse does nothing), and says what to do when it reads a
listener, which gets no vectors in `nlp.rehearse`."""
import pytest
import spacy
from spacy.training import Example
from thinc.api import Adam, fix_random_seed

from ..util import TRAIN_DATA, add_ner, ents, make_examples

RAW = ["王五住在广州", "赵六来自深圳工作", "张三在上海工作"]


def trained_nlp():
    fix_random_seed(0)
    nlp = spacy.blank("zh")
    add_ner(nlp)
    optimizer = nlp.initialize(lambda: make_examples(nlp))
    for _ in range(30):
        nlp.update(make_examples(nlp), sgd=optimizer)
    return nlp


def test_rehearse_trains_and_keeps_what_the_model_found():
    nlp = trained_nlp()
    ner = nlp.get_pipe("ner")
    before = [ents(doc) for doc in nlp.pipe(RAW)]
    assert any(before)
    nlp.resume_training()
    weights = ner.model.to_bytes()
    # A high rate: the weights move a lot, the entities stay the copy's.
    optimizer = Adam(0.05)
    losses = {}
    for _ in range(10):
        nlp.rehearse([Example.from_dict(nlp.make_doc(t), {}) for t in RAW], sgd=optimizer, losses=losses)
    assert losses["ner"] > 0.0
    assert ner.model.to_bytes() != weights
    assert [ents(doc) for doc in nlp.pipe(RAW)] == before


def test_rehearse_with_a_label_added_after_resume_training():
    nlp = trained_nlp()
    nlp.resume_training()
    nlp.get_pipe("ner").add_label("product")
    losses = nlp.rehearse([Example.from_dict(nlp.make_doc(t), {}) for t in RAW], sgd=Adam(0.001))
    assert losses["ner"] > 0.0


def test_rehearse_through_a_listener_says_what_to_do():
    nlp = spacy.blank("zh")
    nlp.add_pipe("tok2vec")
    nlp.add_pipe("crf_ner", config={"model": {
        "@architectures": "spacy_cluener.CRFTagger.v1",
        "tok2vec": {"@architectures": "spacy.Tok2VecListener.v1", "width": 96, "upstream": "*"}}})
    nlp.initialize(lambda: make_examples(nlp, TRAIN_DATA))
    nlp.resume_training()
    with pytest.raises(ValueError, match=r"\[E064\].*replace_listeners"):
        nlp.rehearse([Example.from_dict(nlp.make_doc(t), {}) for t in RAW], sgd=Adam(0.001))


def test_rehearse_drops_a_calibration_as_update_does():
    nlp = trained_nlp()
    ner = nlp.get_pipe("ner")
    ner.temperature = 2.0  # what `calibrate` fits, to the weights before rehearsal
    nlp.resume_training()
    with pytest.warns(UserWarning, match=r"\[W005\]"):
        nlp.rehearse([Example.from_dict(nlp.make_doc(t), {}) for t in RAW], sgd=Adam(0.001))
    assert ner.temperature == 1.0
