from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc
from spacy.training import biluo_tags_to_spans, offsets_to_biluo_tags
from spacy.vocab import Vocab

from spacy_cluener.tag_schemes import (
    allowed_transition,
    biluo_to_scheme,
    is_valid_biluo,
    scheme_to_biluo,
    tag_names,
)

LABELS = ["address", "name", "scene"]


@st.composite
def docs_with_spans(draw):
    n = draw(st.integers(min_value=0, max_value=30))
    starts = sorted(draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n)) if n else [])
    spans = []
    last_end = 0
    for start in starts:
        if start < last_end:
            continue
        end = draw(st.integers(start + 1, min(n, start + 6)))
        spans.append((start, end, draw(st.sampled_from(LABELS))))
        last_end = end
    return n, spans


@settings(max_examples=300, deadline=None)
@given(docs_with_spans(), st.sampled_from(["BIO", "BIOES"]))
def test_spans_to_tags_to_spans_is_identity(doc_spans, scheme):
    n, spans = doc_spans
    doc = Doc(Vocab(), words=["字"] * n, spaces=[False] * n)
    biluo = offsets_to_biluo_tags(doc, spans)
    tags = biluo_to_scheme(biluo, scheme)
    assert set(tags) <= set(tag_names(LABELS, scheme))
    back = biluo_tags_to_spans(doc, scheme_to_biluo(tags, scheme))
    assert [(s.start_char, s.end_char, s.label_) for s in back] == spans
    assert is_valid_biluo(biluo) is None


def test_bio_and_bioes_are_not_mixed():
    assert tag_names(["X"], "BIO") == ["O", "B-X", "I-X"]
    assert tag_names(["X"], "BIOES") == ["O", "B-X", "I-X", "E-X", "S-X"]


def test_allowed_transitions():
    for scheme in ("BIO", "BIOES"):
        assert not allowed_transition("O", "I-X", scheme)
        assert not allowed_transition("B-X", "I-Y", scheme)
        assert allowed_transition("B-X", "I-X", scheme)
    assert allowed_transition("B-X", "B-Y", "BIO")
    assert not allowed_transition("B-X", "B-Y", "BIOES")
    assert not allowed_transition("B-X", "O", "BIOES")
    assert allowed_transition("E-X", "S-Y", "BIOES")
    assert not allowed_transition("S-X", "E-X", "BIOES")
