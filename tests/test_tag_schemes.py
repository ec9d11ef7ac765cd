import pytest
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
    split_tag,
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


# Any tags, malformed ones included: the linear reader must agree with spaCy's everywhere.
ANY_TAG = st.one_of(
    st.sampled_from(["O", "B-X", "I-X", "L-X", "U-X", "B-Y", "I-Y", "L-Y", "I-", "B-", "I", "L", "X"]),
    st.text(st.sampled_from("BILUOXY-"), max_size=4),
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(ANY_TAG, max_size=12))
def test_linear_iob_to_biluo_is_spacys(tags):
    from spacy.training import iob_to_biluo as spacy_iob_to_biluo

    from spacy_cluener.tag_schemes import iob_to_biluo

    try:
        expected = spacy_iob_to_biluo(tags)
    except ValueError as err:
        with pytest.raises(ValueError) as ours:
            iob_to_biluo(tags)
        assert str(ours.value) == str(err)
    else:
        assert iob_to_biluo(tags) == expected


def test_bio_reading_avoids_spacys_quadratic_iob_to_biluo(monkeypatch):
    """spaCy's iob_to_biluo pops from the front of a list (quadratic: 19 s for
    a 200,000-token sentence); reading BIO must not go through it."""
    import spacy.training.iob_utils as iob_utils

    def quadratic(*args):
        raise AssertionError("spaCy's list.pop(0) iob_to_biluo was used")

    monkeypatch.setattr(iob_utils, "_consume_ent", quadratic)
    monkeypatch.setattr(iob_utils, "_consume_os", quadratic)
    assert scheme_to_biluo(["B-X", "I-X", "O", "I-Y"], "BIO") == ["B-X", "L-X", "O", "U-Y"]


def test_iob_to_biluo_timings_grow_linearly():
    """Benchmark-style: prints the time for 100k and 1M tags (no timed assertion)."""
    import time

    from spacy_cluener.tag_schemes import iob_to_biluo

    unit = ["B-X", "I-X", "I-X", "O", "I-Y", "O", "O", "B-Y", "B-Y", "I-Y"]
    times = {}
    for n in (100_000, 1_000_000):
        tags = unit * (n // len(unit))
        start = time.perf_counter()
        out = iob_to_biluo(tags)
        times[n] = time.perf_counter() - start
        assert len(out) == n
    print(f"iob_to_biluo: 100k {times[100_000]:.3f}s, 1M {times[1_000_000]:.3f}s, "
          f"ratio {times[1_000_000] / times[100_000]:.1f}x")


def test_split_tag_refuses_o_with_a_label():
    # read as O, the entity of 'O-PER' vanished without a word
    with pytest.raises(ValueError, match="E002"):
        split_tag("O-PER")
