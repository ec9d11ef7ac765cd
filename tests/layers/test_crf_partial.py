"""The partial-annotation likelihood against brute-force enumeration: the log
of the summed probability of every legal tag path that agrees with the known
tags, value and gradients, on short docs of both schemes."""
import itertools

import numpy
import pytest
import torch

from spacy_cluener.layers.crf_likelihood import (
    crf_log_likelihood,
    crf_partial_log_likelihood,
    has_legal_path,
)
from spacy_cluener.layers.pytorch_crf import EmissionCRF
from spacy_cluener.tag_schemes import known_tags_mask, tag_names

LABELS = ["name", "scene"]


def make_params(scheme, seed):
    torch.manual_seed(seed)
    names = tag_names(LABELS, scheme)
    module = EmissionCRF(4, names, scheme)
    with torch.no_grad():
        for name in ("transitions", "start_transitions", "end_transitions"):
            getattr(module.crf.parametrizations, name).original.normal_()
    crf = module.crf
    params = [p.detach().double().requires_grad_() for p in (crf.start_transitions, crf.end_transitions, crf.transitions)]
    return names, module, params


def brute_force(emissions, allowed, lengths, start, end, trans):
    """log sum over allowed paths - log sum over all paths, per row."""
    out = []
    n_tags = emissions.shape[2]
    for row, n in enumerate(lengths):
        scores, known = [], []
        for path in itertools.product(range(n_tags), repeat=n):
            s = start[path[0]] + emissions[row, 0, path[0]] + end[path[-1]]
            for t in range(1, n):
                s = s + trans[path[t - 1], path[t]] + emissions[row, t, path[t]]
            scores.append(s)
            known.append(all(allowed[row, t, path[t]] for t in range(n)))
        scores = torch.stack(scores)
        keep = torch.tensor(known)
        out.append(torch.logsumexp(scores[keep], 0) - torch.logsumexp(scores, 0))
    return torch.stack(out)


def random_partial(names, module, scheme, lengths, seed):
    """Gold BILUO of a legal path with some tokens missing, as allowed masks."""
    gen = torch.Generator().manual_seed(seed)
    length = max(lengths)
    mask = torch.arange(length).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    paths = module.decode(torch.randn(len(lengths), length, len(names), generator=gen) * 3, mask)
    rng = numpy.random.default_rng(seed)
    allowed = torch.ones(len(lengths), length, len(names), dtype=torch.bool)
    for row, n in enumerate(lengths):
        biluo = _to_biluo([names[i] for i in paths[row, :n].tolist()], scheme)
        missing = rng.random(n) < 0.5
        if missing.all():
            missing[0] = False
        biluo = [None if m else tag for tag, m in zip(biluo, missing)]
        allowed[row, :n] = torch.from_numpy(known_tags_mask(biluo, names, scheme))
    return allowed, mask


def _to_biluo(tags, scheme):
    from spacy_cluener.tag_schemes import scheme_to_biluo

    return scheme_to_biluo(tags, scheme)


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
@pytest.mark.parametrize("seed", range(3))
def test_partial_likelihood_equals_brute_force(scheme, seed):
    names, module, params = make_params(scheme, seed)
    lengths = [4, 1, 3, 2] if scheme == "BIO" else [3, 1, 2, 3]
    allowed, mask = random_partial(names, module, scheme, lengths, seed)
    gen = torch.Generator().manual_seed(seed + 100)
    emissions = (torch.randn(len(lengths), max(lengths), len(names), generator=gen, dtype=torch.float64) * 3)
    em1 = emissions.clone().requires_grad_()
    ours = crf_partial_log_likelihood(em1, allowed, mask, *params)
    weights = torch.linspace(0.5, 1.5, len(lengths), dtype=torch.float64)
    grads = torch.autograd.grad((ours * weights).sum(), [em1, *params])
    params2 = [p.detach().clone().requires_grad_() for p in params]
    em2 = emissions.clone().requires_grad_()
    ref = brute_force(em2, allowed, lengths, *params2)
    ref_grads = torch.autograd.grad((ref * weights).sum(), [em2, *params2])
    assert torch.allclose(ours, ref, atol=1e-9), (ours, ref)
    for g, r in zip(grads, ref_grads):
        assert torch.allclose(g, r, atol=1e-9)


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
def test_all_known_is_the_full_likelihood_and_none_known_is_zero(scheme):
    names, module, params = make_params(scheme, 0)
    lengths = [6, 2, 5]
    gen = torch.Generator().manual_seed(1)
    mask = torch.arange(6).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    emissions = torch.randn(3, 6, len(names), generator=gen, dtype=torch.float64) * 3
    tags = module.decode(emissions.float() * -1, mask)
    one_hot = torch.nn.functional.one_hot(tags, len(names)).bool()
    full = crf_log_likelihood(emissions, tags, mask, *params)
    assert torch.allclose(crf_partial_log_likelihood(emissions, one_hot, mask, *params), full, atol=1e-9)
    nothing = torch.ones_like(one_hot)
    assert torch.allclose(crf_partial_log_likelihood(emissions, nothing, mask, *params), torch.zeros(3, dtype=torch.float64), atol=1e-9)


def test_bio_known_entity_is_not_extended_into_a_missing_token():
    names = tag_names(LABELS, "BIO")
    allowed = known_tags_mask(["B-name", "L-name", None, "U-scene", "-"], names, "BIO")
    assert not allowed[2, names.index("I-name")] and allowed[2, names.index("B-name")]
    assert not allowed[4, names.index("I-scene")] and allowed[4].sum() == len(names) - 1
    # BIOES leaves it to the transitions
    names = tag_names(LABELS, "BIOES")
    assert known_tags_mask(["U-name", None], names, "BIOES")[1].all()


def test_has_legal_path():
    names = tag_names(LABELS, "BIOES")
    module = EmissionCRF(4, names, "BIOES")
    start, end, trans = (m.numpy() for m in module.scheme_masks())
    assert has_legal_path(known_tags_mask(["B-name", None, None], names, "BIOES"), start, end, trans)
    # B-name then O: no legal path (an entity left open)
    assert not has_legal_path(known_tags_mask(["B-name", "O"], names, "BIOES"), start, end, trans)


def test_gradient_is_finite_and_pulls_towards_the_known_tag():
    names, module, params = make_params("BIOES", 0)
    allowed = torch.from_numpy(known_tags_mask(["U-name", None, "O"], names, "BIOES")).unsqueeze(0)
    emissions = torch.randn(1, 3, len(names), dtype=torch.float64, requires_grad=True)
    out = crf_partial_log_likelihood(emissions, allowed, torch.ones(1, 3, dtype=torch.bool), *params)
    (grad,) = torch.autograd.grad(out.sum(), [emissions])
    assert torch.isfinite(grad).all()
    # Known positions: d/d e = 1{tag} - P(tag) for the allowed one, -P for the others.
    assert grad[0, 0, names.index("S-name")] > 0 and (grad[0, 0] <= 0).sum() == len(names) - 1
