"""spaCy's `spacy/tests/parser/test_add_label.py` (spaCy 3.8), NER tests only,
factory swapped to crf_ner with a small model; spaCy's assertions.

Left out: the parser tests (test_init_parser, test_add_label: DependencyParser),
the `moves` / `move_names` assertions of test_add_label_deserializes_correctly
and test_add_label_get_label (transition-system internals; the labels part is
kept), its `resize_output` step (crf_ner builds its head from the saved cfg),
and the beam tests (test_ner_labels_added_implicitly_on_beam_parse /
_on_greedy_parse: beam_ner's `beam_parse` / `greedy_parse`).
"""
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.vocab import Vocab

from spacy_cluener.components.crf_ner import CRFEntityRecognizer

from ..util import add_ner, small_model


def _ner_example(ner):
    doc = Doc(
        ner.vocab,
        words=["Joe", "loves", "visiting", "London", "during", "the", "weekend"],
    )
    gold = {"entities": [(0, 3, "PERSON"), (19, 25, "LOC")]}
    return Example.from_dict(doc, gold)


def test_add_label_deserializes_correctly():
    model = small_model()
    ner1 = CRFEntityRecognizer(Vocab(), model)
    ner1.add_label("C")
    ner1.add_label("B")
    ner1.add_label("A")
    ner1.initialize(lambda: [_ner_example(ner1)])
    ner2 = CRFEntityRecognizer(Vocab(), small_model())
    ner2.from_bytes(ner1.to_bytes())
    assert ner1.labels == ner2.labels


def test_add_label_get_label():
    """Test that added labels are returned correctly. This test was added to
    test for a bug in DependencyParser.labels that'd cause it to fail when
    splitting the move names.
    """
    labels = ["A", "B", "C"]
    model = small_model()
    pipe = CRFEntityRecognizer(Vocab(), model)
    for label in labels:
        pipe.add_label(label)
    pipe_labels = sorted(list(pipe.labels))
    assert pipe_labels == labels


def test_ner_labels_added_implicitly_on_predict():
    nlp = Language()
    ner = add_ner(nlp)
    for label in ["A", "B", "C"]:
        ner.add_label(label)
    nlp.initialize()
    doc = Doc(nlp.vocab, words=["hello", "world"], ents=["B-D", "O"])
    ner(doc)
    assert [t.ent_type_ for t in doc] == ["D", ""]
    assert "D" in ner.labels


def test_ner_labels_added_implicitly_on_update():
    nlp = Language()
    ner = add_ner(nlp)
    for label in ["A", "B", "C"]:
        ner.add_label(label)
    nlp.initialize()
    doc = Doc(nlp.vocab, words=["hello", "world"], ents=["B-D", "O"])
    example = Example(nlp.make_doc(doc.text), doc)
    assert "D" not in ner.labels
    nlp.update([example])
    assert "D" in ner.labels
