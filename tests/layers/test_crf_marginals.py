"""CRF marginals against brute-force enumeration of every tag sequence.

Short docs (<= 6 tokens), two labels, both schemes, with the project's
constrained transitions (FORBIDDEN on what the scheme does not allow).
"""
import itertools

import numpy
import pytest
import torch

from spacy_cluener.layers.crf_marginals import crf_posteriors, span_marginals, span_marginals_numpy, token_marginals
from spacy_cluener.layers.pytorch_crf import FORBIDDEN, transition_masks, viterbi_decode
from spacy_cluener.tag_schemes import tag_names

LABELS = ("A", "B")


def _params(scheme, seed, scale=2.0):
    names = tag_names(LABELS, scheme)
    gen = torch.Generator().manual_seed(seed)
    n = len(names)
    start_ok, end_ok, trans_ok = transition_masks(names, scheme)
    start = (torch.randn(n, generator=gen) * scale).masked_fill(~start_ok, FORBIDDEN)
    end = (torch.randn(n, generator=gen) * scale).masked_fill(~end_ok, FORBIDDEN)
    trans = (torch.randn(n, n, generator=gen) * scale).masked_fill(~trans_ok, FORBIDDEN)
    return names, start, end, trans, gen


def _brute_force(emissions, start, end, trans):
    """(sequences, probabilities) over all tag sequences of one doc (float64)."""
    length, n = emissions.shape
    seqs = numpy.array(list(itertools.product(range(n), repeat=length)), dtype="int64")
    e, s, en, tr = (x.double().numpy() for x in (emissions, start, end, trans))
    score = s[seqs[:, 0]] + en[seqs[:, -1]] + e[numpy.arange(length), seqs].sum(1)
    if length > 1:
        score += tr[seqs[:, :-1], seqs[:, 1:]].sum(1)
    prob = numpy.exp(score - score.max())
    return seqs, prob / prob.sum()


def _span_event(seqs, names, scheme, start, end, label):
    """Rows of `seqs` whose tags at start..end are exactly the entity's."""
    index = {name: i for i, name in enumerate(names)}
    n = end - start + 1
    if scheme == "BIO":
        want = [f"B-{label}"] + [f"I-{label}"] * (n - 1)
    else:
        want = [f"S-{label}"] if n == 1 else [f"B-{label}"] + [f"I-{label}"] * (n - 2) + [f"E-{label}"]
    hit = numpy.all(seqs[:, start : end + 1] == [index[t] for t in want], axis=1)
    if scheme == "BIO" and end + 1 < seqs.shape[1]:
        hit &= seqs[:, end + 1] != index[f"I-{label}"]
    return hit, [index[t] for t in want]


def _all_spans(length):
    for s in range(length):
        for e in range(s, length):
            for label in LABELS:
                yield s, e, label


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_marginals_equal_brute_force(scheme, seed):
    names, start, end, trans, gen = _params(scheme, seed)
    longest = 6 if scheme == "BIO" else 5  # 5**6 and 9**5 sequences
    lengths = [longest, 1, 3, longest - 1]
    emissions = torch.randn(len(lengths), longest, len(names), generator=gen) * 2.0
    emissions[1, 1:] = 1e6  # padding is never read
    mask = torch.arange(longest)[None] < torch.tensor(lengths)[:, None]
    post = crf_posteriors(emissions, mask, start, end, trans)
    gamma = token_marginals(post)
    for row, n in enumerate(lengths):
        seqs, prob = _brute_force(emissions[row, :n], start, end, trans)
        expected = numpy.zeros((n, len(names)))
        for t in range(n):
            numpy.add.at(expected[t], seqs[:, t], prob)
        assert numpy.allclose(gamma[row, :n].numpy(), expected, atol=1e-6, rtol=0)
        assert numpy.allclose(gamma[row, :n].sum(1).numpy(), 1.0, atol=1e-9)
        assert float(gamma[row, n:].abs().sum()) == 0.0
        for s, e, label in _all_spans(n):
            hit, want = _span_event(seqs, names, scheme, s, e, label)
            tags = torch.zeros(mask.shape, dtype=torch.long)
            tags[row, s : e + 1] = torch.tensor(want)
            stop = torch.tensor([names.index(f"I-{label}") if scheme == "BIO" else -1])
            got = span_marginals(post, tags, torch.tensor([row]), torch.tensor([s]), torch.tensor([e]), stop)
            assert float(got) == pytest.approx(float(prob[hit].sum()), abs=1e-6), (row, s, e, label)
            # a span's marginal is at most each of its token marginals
            for t, tag in zip(range(s, e + 1), want):
                assert float(got) <= float(gamma[row, t, tag]) + 1e-9


def _viterbi_spans(names, scheme, best, lengths):
    """(row, start, end inclusive, label) of every entity of the paths."""
    spans = []
    for row, n in enumerate(lengths):
        t = 0
        path = [names[i] for i in best[row, :n]]
        while t < n:
            if path[t] == "O":
                t += 1
                continue
            label = path[t][2:]
            e = t
            cont = ("I",) if scheme == "BIO" else ("I", "E")
            if not path[t].startswith("S"):
                while e + 1 < n and path[e + 1][0] in cont and path[e + 1][2:] == label:
                    e += 1
                    if path[e].startswith("E"):
                        break
            spans.append((row, t, e, label))
            t = e + 1
    return spans


def _batch(scheme, seed, lengths, scale=3.0):
    names, start, end, trans, gen = _params(scheme, seed, scale=1.0)
    longest = max(lengths)
    # emissions that favour entities, so the paths have several
    emissions = torch.randn(len(lengths), longest, len(names), generator=gen) * scale
    emissions[:, :, 0] -= 2.0
    mask = torch.arange(longest)[None] < torch.tensor(lengths)[:, None]
    best = viterbi_decode(emissions, mask, start, end, trans)
    return names, start, end, trans, emissions, mask, best, _viterbi_spans(names, scheme, best, lengths)


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
def test_viterbi_spans_vectorised_equal_brute_force(scheme):
    """All the entities of a batch's Viterbi paths in one call."""
    lengths = [5, 4, 2, 5, 3, 1]
    names, start, end, trans, emissions, mask, best, spans = _batch(scheme, 7, lengths)
    assert len(spans) >= 4
    post = crf_posteriors(emissions, mask, start, end, trans)
    rows, starts, ends = (torch.tensor([s[i] for s in spans]) for i in range(3))
    stop = torch.tensor([names.index(f"I-{s[3]}") if scheme == "BIO" else -1 for s in spans])
    got = span_marginals(post, best, rows, starts, ends, stop)
    for (row, s, e, label), p in zip(spans, got.tolist()):
        seqs, prob = _brute_force(emissions[row, : lengths[row]], start, end, trans)
        hit, _ = _span_event(seqs, names, scheme, s, e, label)
        assert p == pytest.approx(float(prob[hit].sum()), abs=1e-6)


def test_extreme_scores_stay_finite():
    """Emissions far apart (float32's exp would underflow) give marginals in [0, 1]."""
    names, start, end, trans, gen = _params("BIOES", 3)
    emissions = torch.randn(2, 40, len(names), generator=gen) * 200.0
    mask = torch.ones(2, 40, dtype=torch.bool)
    post = crf_posteriors(emissions, mask, start, end, trans)
    gamma = token_marginals(post)
    assert torch.isfinite(gamma).all()
    assert torch.allclose(gamma.sum(2), torch.ones(2, 40, dtype=torch.float64))
    best = viterbi_decode(emissions, mask, start, end, trans)
    p = span_marginals(post, best, torch.tensor([0, 1]), torch.tensor([0, 0]), torch.tensor([0, 0]))
    assert torch.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
@pytest.mark.parametrize("lengths,scale", [([40], 3.0), ([37, 12, 1, 40, 25], 3.0), ([30, 30], 200.0)])
def test_numpy_span_marginals_equal_torch(scheme, lengths, scale):
    """`span_marginals_numpy` (the CPU's path for a few docs) gives the torch
    pass's marginals: one doc, ragged docs, scores far apart; some tags
    forbidden per token, as preset entities and whitespace make them."""
    names, start, end, trans, emissions, mask, best, spans = _batch(scheme, 11, lengths, scale)
    forbid = torch.zeros_like(emissions, dtype=torch.bool)
    forbid[0, 3, 1:] = True  # a token that may only be O
    emissions = emissions.masked_fill(forbid, FORBIDDEN)
    best = viterbi_decode(emissions, mask, start, end, trans)
    spans = _viterbi_spans(names, scheme, best, lengths)
    assert len(spans) >= 3
    rows, starts, ends = ([s[i] for s in spans] for i in range(3))
    stop = [names.index(f"I-{s[3]}") if scheme == "BIO" else -1 for s in spans]
    post = crf_posteriors(emissions, mask, start, end, trans)
    want = span_marginals(post, best, *(torch.tensor(x) for x in (rows, starts, ends, stop))).numpy()
    got = span_marginals_numpy(
        emissions.numpy(), numpy.array(lengths), start.numpy(), end.numpy(), trans.numpy(), best.numpy(),
        *(numpy.array(x) for x in (rows, starts, ends, stop)),
    )
    assert got.dtype == numpy.float64 and got.shape == want.shape
    numpy.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert not numpy.allclose(got, got[0])  # scores that differ, not a constant
