"""spaCy's `spacy/tests/pipeline/test_entity_linker.py` (spaCy 3.8), the tests
with a `ner` in the pipeline, swapped to crf_ner with a small model; spaCy's
assertions. The others test the entity linker and its knowledge base alone.

Left out: in test_overfitting_IO_with_ner, `losses["ner"] < 0.001` (spaCy's
ner reports the squared gradient of its action scores, crf_ner the negative
log-likelihood of the gold path: not comparable numbers; the predictions and
scores after training are checked as spaCy wrote them), and test_nel_pickle,
which spaCy 3.8 marks xfail (its entity_linker holds a local function and
does not pickle); crf_ner's own pickling is tested in test_crf_ner_pickle.py.
"""
import pytest
from numpy.testing import assert_almost_equal
from spacy import util
from spacy.kb import InMemoryLookupKB
from spacy.lang.en import English
from spacy.tests.pipeline.test_entity_linker import TRAIN_DATA
from spacy.tests.util import make_tempdir
from spacy.training import Example

from ..util import add_ner


@pytest.mark.slow
def test_overfitting_IO_with_ner():
    # Simple test to try and overfit the NER and NEL component in combination - ensuring the ML models work correctly
    nlp = English()
    vector_length = 3
    assert "Q2146908" not in nlp.vocab.strings

    # Convert the texts to docs to make sure we have doc.ents set for the training examples
    train_examples = []
    for text, annotation in TRAIN_DATA:
        doc = nlp(text)
        train_examples.append(Example.from_dict(doc, annotation))

    def create_kb(vocab):
        # create artificial KB - assign same prior weight to the two russ cochran's
        # Q2146908 (Russ Cochran): American golfer
        # Q7381115 (Russ Cochran): publisher
        mykb = InMemoryLookupKB(vocab, entity_vector_length=vector_length)
        mykb.add_entity(entity="Q2146908", freq=12, entity_vector=[6, -4, 3])
        mykb.add_entity(entity="Q7381115", freq=12, entity_vector=[9, 1, -7])
        mykb.add_alias(
            alias="Russ Cochran",
            entities=["Q2146908", "Q7381115"],
            probabilities=[0.5, 0.5],
        )
        return mykb

    # Create the NER and EL components and add them to the pipeline
    ner = add_ner(nlp, first=True)
    entity_linker = nlp.add_pipe("entity_linker", last=True, config={"use_gold_ents": False})
    entity_linker.set_kb(create_kb)

    train_examples = []
    for text, annotations in TRAIN_DATA:
        train_examples.append(Example.from_dict(nlp.make_doc(text), annotations))
        for ent in annotations.get("entities"):
            ner.add_label(ent[2])
    optimizer = nlp.initialize()

    # train the NER and NEL pipes
    for _ in range(50):
        losses = {}
        nlp.update(train_examples, sgd=optimizer, losses=losses)
    assert losses["entity_linker"] < 0.001

    # adding additional components that are required for the entity_linker
    nlp.add_pipe("sentencizer", first=True)

    # test the trained model
    test_text = "Russ Cochran captured his first major title with his son as caddie."
    doc = nlp(test_text)
    ents = doc.ents
    assert len(ents) == 1
    assert ents[0].text == "Russ Cochran"
    assert ents[0].label_ == "PERSON"
    assert ents[0].kb_id_ != "NIL"

    # Also test the results are still the same after IO
    with make_tempdir() as tmp_dir:
        nlp.to_disk(tmp_dir)
        nlp2 = util.load_model_from_path(tmp_dir)
        assert nlp2.pipe_names == nlp.pipe_names
        doc2 = nlp2(test_text)
        ents2 = doc2.ents
        assert len(ents2) == 1
        assert ents2[0].text == "Russ Cochran"
        assert ents2[0].label_ == "PERSON"
        assert ents2[0].kb_id_ != "NIL"

    eval = nlp.evaluate(train_examples)
    assert "nel_macro_f" in eval
    assert "nel_micro_f" in eval
    assert "ents_f" in eval
    assert "nel_f_per_type" in eval
    assert "ents_per_type" in eval
    assert "PERSON" in eval["nel_f_per_type"]
    assert "PERSON" in eval["ents_per_type"]

    assert eval["nel_macro_f"] > 0
    assert eval["nel_micro_f"] > 0
    assert eval["ents_f"] > 0


def test_nel_to_bytes():
    # Test that a pipeline with an EL component can be converted to bytes
    def create_kb(vocab):
        kb = InMemoryLookupKB(vocab, entity_vector_length=3)
        kb.add_entity(entity="Q2146908", freq=12, entity_vector=[6, -4, 3])
        kb.add_alias(alias="Russ Cochran", entities=["Q2146908"], probabilities=[0.8])
        return kb

    nlp_1 = English()
    add_ner(nlp_1)
    entity_linker_1 = nlp_1.add_pipe("entity_linker", last=True)
    entity_linker_1.set_kb(create_kb)
    assert entity_linker_1.kb.contains_alias("Russ Cochran")
    assert nlp_1.pipe_names == ["ner", "entity_linker"]

    nlp_bytes = nlp_1.to_bytes()
    nlp_2 = English()
    add_ner(nlp_2)
    nlp_2.add_pipe("entity_linker", last=True)
    assert nlp_2.pipe_names == ["ner", "entity_linker"]
    assert not nlp_2.get_pipe("entity_linker").kb.contains_alias("Russ Cochran")
    nlp_2 = nlp_2.from_bytes(nlp_bytes)
    kb_2 = nlp_2.get_pipe("entity_linker").kb
    assert kb_2.contains_alias("Russ Cochran")
    assert kb_2.get_vector("Q2146908") == [6, -4, 3]
    assert_almost_equal(kb_2.get_prior_prob(entity="Q2146908", alias="Russ Cochran"), 0.8)
