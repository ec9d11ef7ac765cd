"""crf_ner learns from partially annotated docs (tokens with a missing tag),
and fully annotated docs train exactly as before."""
import warnings

import pytest
import spacy
import torch
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import fix_random_seed

from spacy_cluener.layers.crf_likelihood import crf_log_likelihood
from spacy_cluener.layers.crf_tagger import pad
from spacy_cluener.layers.pytorch_crf import length_mask

from ..util import SMALL_MODEL, TRAIN_DATA, ents, make_examples


def partial_examples(nlp):
    """TRAIN_DATA with the tokens after each doc's first entity missing."""
    out = []
    for eg in make_examples(nlp):
        ref = eg.reference
        first = ref.ents[0]
        tags = [""] * len(ref)  # "": missing
        for i in range(first.end):
            tags[i] = "O"
        for i in range(first.start, first.end):
            tags[i] = ("B-" if i == first.start else "I-") + first.label_
        words = [t.text for t in ref]
        doc = Doc(nlp.vocab, words=words, spaces=[False] * len(words), ents=tags)
        out.append(Example(nlp.make_doc(ref.text), doc))
    return out


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
def test_partial_docs_train_on_their_known_tags(scheme):
    fix_random_seed(0)
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_ner", config={"model": SMALL_MODEL, "scheme": scheme})
    full = make_examples(nlp)
    partial = partial_examples(nlp)
    assert all(any(t.ent_iob == 0 for t in eg.reference) for eg in partial)
    optimizer = nlp.initialize(lambda: full)
    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no W001: every doc has known tags
        for _ in range(40):
            step = {}
            nlp.update(partial, sgd=optimizer, losses=step)
            losses.append(step["crf_ner"])
    assert losses[0] > 0 and losses[-1] < losses[0] / 10
    # the known entity of each doc is learned
    for (text, _gold), eg in zip(TRAIN_DATA, partial):
        first = eg.reference.ents[0]
        assert (first.start_char, first.end_char, first.label_) in ents(nlp(text))


def test_doc_with_no_known_tag_adds_nothing_and_warns():
    nlp = spacy.blank("zh")
    ner = nlp.add_pipe("crf_ner", config={"model": SMALL_MODEL})
    nlp.initialize(lambda: make_examples(nlp))
    doc = nlp.make_doc("张三在上海")
    eg = Example(doc, Doc(nlp.vocab, words=[t.text for t in doc], spaces=[False] * len(doc)))
    scores = ner.model.predict([doc])
    with pytest.warns(UserWarning, match="W001"):
        loss, d_scores = ner.get_loss([eg], scores)
    assert loss == 0.0 and float(abs(d_scores[0]).sum()) == 0.0


def test_full_docs_take_the_full_likelihood_bit_for_bit():
    # The loss and gradient of fully annotated docs are crf_log_likelihood's,
    # called as before partial annotations (the seed trainings depend on it).
    fix_random_seed(0)
    nlp = spacy.blank("zh")
    ner = nlp.add_pipe("crf_ner", config={"model": SMALL_MODEL})
    examples = make_examples(nlp)
    nlp.initialize(lambda: examples)
    crf = ner.crf
    with torch.no_grad():
        crf.crf.parametrizations.transitions.original.normal_()
    docs = [eg.predicted for eg in examples]
    scores = ner.model.predict(docs)
    loss, d_scores = ner.get_loss(examples, scores)
    gold = [ner.gold_tag_ids(eg) for eg in examples]
    emissions = torch.tensor(pad(ner.model, scores, len(ner.tag_names)), requires_grad=True)
    tags = torch.zeros(emissions.shape[:2], dtype=torch.long)
    for row, g in enumerate(gold):
        tags[row, : len(g)] = torch.tensor(g)
    mask = length_mask([len(g) for g in gold])
    with torch.nn.utils.parametrize.cached():
        ref = -crf_log_likelihood(
            emissions.float(), tags, mask, crf.crf.start_transitions, crf.crf.end_transitions, crf.crf.transitions
        ).sum()
    ref.backward()
    assert loss == float(ref.item())
    for row, d in enumerate(d_scores):
        assert (d == emissions.grad[row, : len(d)].numpy()).all()
