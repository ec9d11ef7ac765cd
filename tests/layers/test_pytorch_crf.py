import pytest
import torch

from spacy_cluener.layers.pytorch_crf import EmissionCRF, viterbi_decode
from spacy_cluener.tag_schemes import (
    allowed_end,
    allowed_start,
    allowed_transition,
    tag_names,
)

LABELS = ["address", "book", "company", "scene"]


def random_batch(seed, batch=8, max_len=40, n_tags=9):
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, max_len + 1, (batch,), generator=gen)
    lengths[0] = max_len
    emissions = torch.randn(batch, max_len, n_tags, generator=gen) * 5
    mask = torch.arange(max_len).unsqueeze(0) < lengths.unsqueeze(1)
    return emissions, mask, lengths


def legal(path, names, scheme):
    tags = [names[i] for i in path]
    return (
        allowed_start(tags[0], scheme)
        and allowed_end(tags[-1], scheme)
        and all(allowed_transition(a, b, scheme) for a, b in zip(tags, tags[1:]))
    )


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
@pytest.mark.parametrize("seed", range(5))
def test_decoding_never_outputs_illegal_sequences(scheme, seed):
    torch.manual_seed(seed)
    names = tag_names(LABELS, scheme)
    module = EmissionCRF(4, names, scheme)
    # Make the learned transitions favour illegal moves as much as possible.
    with torch.no_grad():
        module.crf.parametrizations.transitions.original.fill_(50.0)
        module.crf.parametrizations.start_transitions.original.fill_(50.0)
    emissions, mask, lengths = random_batch(seed, n_tags=len(names))
    best = module.decode(emissions, mask)
    for row, n in enumerate(lengths.tolist()):
        assert legal(best[row, :n].tolist(), names, scheme)


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
@pytest.mark.parametrize("seed", range(5))
def test_vectorised_viterbi_equals_pytorch_crf_decode(scheme, seed):
    torch.manual_seed(seed)
    names = tag_names(LABELS, scheme)
    module = EmissionCRF(4, names, scheme)
    with torch.no_grad():
        module.crf.parametrizations.transitions.original.normal_()
    emissions, mask, lengths = random_batch(seed, n_tags=len(names))
    ours = module.decode(emissions, mask)
    reference = module.crf.decode(emissions, mask)
    for row, n in enumerate(lengths.tolist()):
        assert ours[row, :n].tolist() == reference[row]
        assert ours[row, n:].eq(0).all()


@pytest.mark.parametrize("seed", range(3))
def test_padding_does_not_change_decoding_or_loss(seed):
    names = tag_names(LABELS, "BIOES")
    module = EmissionCRF(4, names, "BIOES")
    emissions, mask, lengths = random_batch(seed, n_tags=len(names))
    tags = torch.randint(0, len(names), mask.shape) * mask
    batched = module.decode(emissions, mask)
    for row, n in enumerate(lengths.tolist()):
        alone = module.decode(emissions[row : row + 1, :n], mask[row : row + 1, :n])
        assert alone[0].tolist() == batched[row, :n].tolist()
    total = module.nll(emissions, tags, mask)
    parts = sum(
        module.nll(emissions[r : r + 1, :n], tags[r : r + 1, :n], mask[r : r + 1, :n])
        for r, n in enumerate(lengths.tolist())
    )
    assert torch.allclose(total, parts, rtol=1e-5)


def test_forbidden_transitions_get_no_gradient():
    names = tag_names(LABELS, "BIO")
    module = EmissionCRF(4, names, "BIO")
    emissions, mask, _ = random_batch(0, n_tags=len(names))
    tags = torch.zeros(mask.shape, dtype=torch.long)
    module.nll(emissions, tags, mask).backward()
    grad = module.crf.parametrizations.transitions.original.grad
    forbidden = ~module.crf.parametrizations.transitions[0].allowed
    assert forbidden.any()
    assert grad[forbidden].abs().sum() == 0
    assert grad[~forbidden].abs().sum() > 0


def test_empty_length_batch():
    emissions = torch.zeros(2, 0, 3)
    mask = torch.zeros(2, 0, dtype=torch.bool)
    out = viterbi_decode(emissions, mask, torch.zeros(3), torch.zeros(3), torch.zeros(3, 3))
    assert out.shape == (2, 0)
