"""spaCy's `spacy/tests/training/test_rehearse.py` (spaCy 3.8) for the "ner"
component, swapped to crf_ner with a small model: train, then
`nlp.resume_training()` and `nlp.rehearse` on data with a new label (the
label is added to a trained model). crf_ner rehearses towards the paths of
its copy from `resume_training` (tests/components/test_crf_ner_rehearse.py
checks that it trains).
The tagger/parser/textcat parametrizations are spaCy's own components.
"""
from typing import List

import spacy

# spaCy's own data (texts, entities and its other annotations)
from spacy.tests.training.test_rehearse import REHEARSE_DATA, TRAIN_DATA  # noqa: E402
from spacy.training import Example

from ..util import add_ner


def _add_ner_label(ner, data):
    for _, annotations in data:
        for ent in annotations["entities"]:
            ner.add_label(ent[2])


def _optimize(nlp, component: str, data: List, rehearse: bool):
    """Run either train or rehearse."""
    pipe = nlp.get_pipe(component)
    _add_ner_label(pipe, data)

    if rehearse:
        optimizer = nlp.resume_training()
    else:
        optimizer = nlp.initialize()

    for _ in range(5):
        for text, annotation in data:
            doc = nlp.make_doc(text)
            example = Example.from_dict(doc, annotation)
            if rehearse:
                nlp.rehearse([example], sgd=optimizer)
            else:
                nlp.update([example], sgd=optimizer)
    return nlp


def test_rehearse():
    component = "ner"
    nlp = spacy.blank("en")
    add_ner(nlp)
    nlp = _optimize(nlp, component, TRAIN_DATA, False)
    _optimize(nlp, component, REHEARSE_DATA, True)
