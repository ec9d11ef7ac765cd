"""crf_log_likelihood against pytorch-crf's own CRF.forward(reduction="none").

References are computed by pytorch-crf in float64: in float32 pytorch-crf is
the less accurate of the two (its logsumexp adds absolute scores of order
length * emission scale), so a float32 reference would measure its error.
Errors are max |ours - ref| / max(max |ref|, 1) per tensor.
"""
import pytest
import torch
from torchcrf import CRF

from spacy_cluener.layers.crf_likelihood import crf_log_likelihood
from spacy_cluener.layers.pytorch_crf import FORBIDDEN, EmissionCRF
from spacy_cluener.tag_schemes import tag_names

LABELS = ["address", "book", "company", "scene"]
TOL = {torch.float32: 1e-4, torch.float64: 1e-9}


def rel(ours, ref):
    # Below 1, absolute: gradients of a log-probability are differences of
    # probabilities, and float32 cannot resolve 1 - p better than ~1e-7.
    return ((ours.double() - ref).abs().max() / ref.abs().max().clamp_min(1.0)).item()


def make_crf(scheme, n_free=9, seed=0):
    """(start, end, transitions, n_tags, module or None); scheme None: unconstrained."""
    torch.manual_seed(seed)
    if scheme is None:
        crf = CRF(n_free, batch_first=True)
        with torch.no_grad():
            crf.transitions.normal_()
        return crf.start_transitions, crf.end_transitions, crf.transitions, n_free, None
    names = tag_names(LABELS, scheme)
    module = EmissionCRF(4, names, scheme)
    with torch.no_grad():
        module.crf.parametrizations.transitions.original.normal_()
        module.crf.parametrizations.start_transitions.original.normal_()
    crf = module.crf
    return crf.start_transitions, crf.end_transitions, crf.transitions, len(names), module


def make_batch(seed, lengths, n_tags, scale=3.0, module=None):
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    length = int(lengths.max())
    emissions = torch.randn(len(lengths), length, n_tags, generator=gen, dtype=torch.float64) * scale
    mask = torch.arange(length).unsqueeze(0) < lengths.unsqueeze(1)
    if module is None:
        tags = torch.randint(0, n_tags, mask.shape, generator=gen)
    else:
        # Legal paths: the constrained model's best path for other emissions.
        other = torch.randn(emissions.shape, generator=gen) * scale
        tags = module.decode(other, mask)
    return emissions, tags, mask


def compare(params, emissions, tags, mask, dtype):
    """Relative errors of (llh, d emissions, d start, d end, d transitions)."""
    start, end, trans = (p.detach() for p in params)
    ref_crf = CRF(trans.shape[0], batch_first=True).double()
    with torch.no_grad():
        ref_crf.start_transitions.copy_(start)
        ref_crf.end_transitions.copy_(end)
        ref_crf.transitions.copy_(trans)
    em64 = emissions.double().requires_grad_()
    ref = ref_crf(em64, tags, mask=mask, reduction="none")
    weights = torch.linspace(0.5, 1.5, len(ref), dtype=torch.float64)
    wrt = [em64, ref_crf.start_transitions, ref_crf.end_transitions, ref_crf.transitions]
    # allow_unused: with length 1, pytorch-crf never reads the transitions.
    ref_grads = torch.autograd.grad((ref * weights).sum(), wrt, allow_unused=True)
    ref_grads = [torch.zeros_like(w) if g is None else g for g, w in zip(ref_grads, wrt)]
    inputs = [emissions.to(dtype).requires_grad_()] + [
        p.to(dtype).requires_grad_() for p in (start, end, trans)
    ]
    ours = crf_log_likelihood(inputs[0], tags, mask, *inputs[1:])
    assert ours.dtype == dtype and ours.shape == ref.shape
    grads = torch.autograd.grad((ours * weights.to(dtype)).sum(), inputs)
    assert all(torch.isfinite(g).all() for g in grads)
    return [rel(ours, ref)] + [rel(g, r) for g, r in zip(grads, ref_grads)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scheme", [None, "BIO", "BIOES"])
@pytest.mark.parametrize("seed", range(3))
def test_equals_pytorch_crf_on_ragged_batches(dtype, scheme, seed):
    *params, n_tags, module = make_crf(scheme, seed=seed)
    lengths = [40, 1, 2, 17, 39, 1, 25, 3]
    emissions, tags, mask = make_batch(seed, lengths, n_tags, module=module)
    errors = compare(params, emissions, tags, mask, dtype)
    assert max(errors) <= TOL[dtype], errors


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scheme", [None, "BIOES"])
def test_length_one_batch(dtype, scheme):
    *params, n_tags, module = make_crf(scheme)
    emissions, tags, mask = make_batch(1, [1, 1, 1], n_tags, module=module)
    assert max(compare(params, emissions, tags, mask, dtype)) <= TOL[dtype]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
@pytest.mark.slow
def test_one_long_sequence(dtype, scheme):
    *params, n_tags, module = make_crf(scheme)
    emissions, tags, mask = make_batch(2, [2000, 7, 1, 300], n_tags, module=module)
    assert max(compare(params, emissions, tags, mask, dtype)) <= TOL[dtype]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_large_emission_scale_forbidden_routes(dtype):
    # Emissions of scale 60: tags at one position differ by far more than
    # float32's exp() range (~87), and the forbidden transitions leave few
    # routes; the likelihood must stay finite and exact.
    *params, n_tags, module = make_crf("BIOES")
    emissions, tags, mask = make_batch(3, [50, 20, 1, 49], n_tags, scale=60.0, module=module)
    assert max(compare(params, emissions, tags, mask, dtype)) <= TOL[dtype]


def test_strong_tag_reached_only_through_an_unlikely_one():
    # O is best at position 0 by 100; E-address is best at position 1 by 100
    # but only B-/I-address may precede it: paths through a tag 100 below the
    # best at its position (beyond float32's exp range) weigh as much as
    # those through O.
    *params, n_tags, module = make_crf("BIOES")
    names = tag_names(LABELS, "BIOES")
    emissions = torch.zeros(1, 2, n_tags, dtype=torch.float64)
    emissions[0, 0, names.index("O")] = 100.0
    emissions[0, 1, names.index("E-address")] = 100.0
    tags = torch.tensor([[names.index("B-address"), names.index("E-address")]])
    mask = torch.ones(1, 2, dtype=torch.bool)
    errors = compare(params, emissions, tags, mask, torch.float32)
    assert max(errors) <= 1e-4, errors


def test_padding_gets_zero_gradient_and_no_influence():
    *params, n_tags, module = make_crf("BIOES")
    emissions, tags, mask = make_batch(4, [12, 5, 1, 9], n_tags, module=module)
    emissions = emissions.float().requires_grad_()
    out = crf_log_likelihood(emissions, tags, mask, *params)
    (grad,) = torch.autograd.grad(out.sum(), [emissions])
    assert grad[~mask].abs().max() == 0
    assert grad[mask].abs().max() > 0
    # Whatever the padding holds, the result does not change.
    noisy = emissions.detach().clone()
    noisy[~mask] = torch.tensor([1e30, -1e30, float("inf"), float("nan")]).repeat(100)[: int((~mask).sum()) * n_tags].view(-1, n_tags)
    assert torch.equal(crf_log_likelihood(noisy, tags, mask, *params), out.detach())


def test_forbidden_transitions_stay_finite():
    # Every transition but O -> O forbidden: one path left, llh(all O) = 0.
    n = 5
    trans = torch.full((n, n), FORBIDDEN)
    trans[0, 0] = 1.0
    start = torch.full((n,), FORBIDDEN)
    start[0] = 0.0
    end = torch.zeros(n)
    params = [p.requires_grad_() for p in (start, end, trans)]
    emissions = torch.randn(2, 30, n, requires_grad=True)
    mask = torch.arange(30).unsqueeze(0) < torch.tensor([[30], [4]])
    tags = torch.zeros(2, 30, dtype=torch.long)
    out = crf_log_likelihood(emissions, tags, mask, *params)
    assert torch.allclose(out, torch.zeros(2), atol=1e-4)
    grads = torch.autograd.grad(out.sum(), [emissions] + params)
    assert all(torch.isfinite(g).all() for g in grads)
    assert max(g.abs().max() for g in grads) < 1e-4


def test_emission_crf_nll_is_the_summed_reference():
    *params, n_tags, module = make_crf("BIOES")
    emissions, tags, mask = make_batch(5, [30, 4, 1, 22], n_tags, module=module)
    emissions = emissions.float()
    ours = module.nll(emissions, tags, mask)
    with torch.nn.utils.parametrize.cached():
        ref = -module.crf(emissions, tags, mask=mask, reduction="sum")
    assert torch.allclose(ours, ref, rtol=1e-5)
