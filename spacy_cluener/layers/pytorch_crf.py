"""The PyTorch side of the CRF head: linear emissions and a `pytorch-crf` CRF.

Illegal transitions (`O -> I-X`, `B-X -> I-Y`, a sequence starting with I-,
...) are removed with a `torch.nn.utils.parametrize` mask on pytorch-crf's own
parameters, so neither training nor decoding can give weight to a path the
scheme forbids. pytorch-crf's `CRF` holds the parameters and is the reference:
the loss is `crf_log_likelihood`, which returns what `CRF.forward` returns
(tested) without its per-position (batch, tags, tags) logsumexp; docs with
missing tags use `crf_partial_log_likelihood`, the same recursion over the
paths that agree with the known tags.

`viterbi_decode` is a batched Viterbi that returns exactly what
`torchcrf.CRF.decode` returns, without its per-step `.item()` host syncs.
"""
from typing import List, Sequence

import torch
from torch import nn
from torch.nn.utils import parametrize
from torchcrf import CRF

from ..tag_schemes import allowed_end, allowed_start, allowed_transition
from .crf_likelihood import FORBIDDEN, crf_log_likelihood, crf_partial_log_likelihood

__all__ = ["FORBIDDEN", "EmissionCRF", "length_mask", "transition_masks", "viterbi_decode"]


class _Mask(nn.Module):
    """Parametrization: forbidden entries are fixed at FORBIDDEN, gradient 0."""

    def __init__(self, allowed: torch.Tensor):
        super().__init__()
        self.register_buffer("allowed", allowed)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return X.masked_fill(~self.allowed, FORBIDDEN)


def transition_masks(tag_names: Sequence[str], scheme: str):
    """Boolean (start, end, transitions) masks of what `scheme` allows."""
    start = torch.tensor([allowed_start(t, scheme) for t in tag_names])
    end = torch.tensor([allowed_end(t, scheme) for t in tag_names])
    trans = torch.tensor(
        [[allowed_transition(p, n, scheme) for n in tag_names] for p in tag_names]
    )
    return start, end, trans


def length_mask(lengths: Sequence[int], device=None) -> torch.Tensor:
    """(batch, longest) bool mask: True for the first `lengths[i]` positions."""
    positions = torch.arange(max(lengths, default=0), device=device)
    return positions.unsqueeze(0) < torch.tensor(list(lengths), device=device).unsqueeze(1)


class EmissionCRF(nn.Module):
    """Token vectors -> emission scores, plus a constrained CRF over them."""

    def __init__(self, nI: int, tag_names: Sequence[str], scheme: str, dropout: float = 0.0):
        super().__init__()
        # What rebuilds the module (pickling, resizing): parametrized modules
        # pickle only through their state_dict.
        self.init_args = {"nI": nI, "tag_names": list(tag_names), "scheme": scheme, "dropout": dropout}
        self.dropout = nn.Dropout(dropout)
        self.emissions = nn.Linear(nI, len(tag_names))
        self.crf = CRF(len(tag_names), batch_first=True)
        # Everything starts at zero, as the output layer of spaCy's `ner`: an
        # untrained model scores every path alike and Viterbi takes the first
        # tag on ties, 'O' (tag_names puts it first), so it predicts no entity.
        for param in (self.emissions.weight, self.emissions.bias, *self.crf.parameters()):
            nn.init.zeros_(param)
        start, end, trans = transition_masks(tag_names, scheme)
        parametrize.register_parametrization(self.crf, "start_transitions", _Mask(start))
        parametrize.register_parametrization(self.crf, "end_transitions", _Mask(end))
        parametrize.register_parametrization(self.crf, "transitions", _Mask(trans))

    def __getstate__(self):
        """Pickle as constructor arguments and weights: torch refuses to
        pickle a module with parametrizations (the transition masks)."""
        return {"init_args": self.init_args, "state_dict": self.state_dict(), "training": self.training}

    def __setstate__(self, state):
        self.__init__(**state["init_args"])
        self.load_state_dict(state["state_dict"])
        self.train(state["training"])

    def resized(self, tag_names: Sequence[str]) -> "EmissionCRF":
        """A copy for a larger tag set: the weights of the tags both share are
        kept (matched by name), those of new tags start at zero as at
        construction, and the scheme's masks are those of the new tag set, so
        a forbidden transition stays forbidden."""
        args = {**self.init_args, "tag_names": list(tag_names)}
        new = EmissionCRF(**args)
        device = self.emissions.weight.device
        new.to(device)
        old_index = {name: i for i, name in enumerate(self.init_args["tag_names"])}
        pairs = [(j, old_index[name]) for j, name in enumerate(tag_names) if name in old_index]
        new_ids = torch.tensor([j for j, _ in pairs], device=device)
        old_ids = torch.tensor([i for _, i in pairs], device=device)
        with torch.no_grad():
            new.emissions.weight[new_ids] = self.emissions.weight[old_ids]
            new.emissions.bias[new_ids] = self.emissions.bias[old_ids]
            old_p, new_p = self.crf.parametrizations, new.crf.parametrizations
            for name in ("start_transitions", "end_transitions"):
                new_p[name].original[new_ids] = old_p[name].original[old_ids]
            new_p["transitions"].original[new_ids.unsqueeze(1), new_ids.unsqueeze(0)] = old_p[
                "transitions"
            ].original[old_ids.unsqueeze(1), old_ids.unsqueeze(0)]
        new.train(self.training)
        return new

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """X (batch, length, nI) -> emissions (batch, length, n_tags)."""
        return self.emissions(self.dropout(X))

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Summed negative log-likelihood of the gold tags (as pytorch-crf's)."""
        # cached(): the masked transitions are computed once, not at every use.
        crf = self.crf
        with parametrize.cached():
            return -crf_log_likelihood(
                emissions.float(), tags, mask, crf.start_transitions, crf.end_transitions, crf.transitions
            ).sum()

    def partial_nll(self, emissions: torch.Tensor, allowed: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Summed negative log-probability of the paths that agree with the
        known tags (`allowed`, (batch, length, tags) bool): the loss of
        partially annotated docs."""
        crf = self.crf
        with parametrize.cached():
            return -crf_partial_log_likelihood(
                emissions.float(), allowed, mask, crf.start_transitions, crf.end_transitions, crf.transitions
            ).sum()

    def scheme_masks(self):
        """The (start, end, transitions) bool masks of the legal moves."""
        p = self.crf.parametrizations
        return tuple(p[name][0].allowed for name in ("start_transitions", "end_transitions", "transitions"))

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Best tag ids (batch, length); positions outside the mask are 0."""
        crf = self.crf
        with torch.no_grad():
            return viterbi_decode(
                emissions.float(), mask, crf.start_transitions, crf.end_transitions, crf.transitions
            )


def viterbi_decode(
    emissions: torch.Tensor,
    mask: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
    transitions: torch.Tensor,
) -> torch.Tensor:
    """Batched Viterbi over (batch, length, n_tags) emissions, batch first.

    Returns what `torchcrf.CRF.decode` returns (tested on random emissions),
    but the backtrace runs on tensors for the whole batch, so the only host
    sync is the caller's when it reads the result; each step keeps only the
    max scores and adds the emissions after the max, on (batch, tags).
    Every sequence must have mask[:, 0] set.
    """
    batch, length, _ = emissions.shape
    mask = mask.bool()
    tags = torch.zeros((batch, length), dtype=torch.long, device=emissions.device)
    if length == 0:
        return tags
    score = start + emissions[:, 0]
    # Only the max scores are kept (amax is about twice as fast as max with
    # indices); the backtrace recomputes the argmax for the one tag it follows.
    scores: List[torch.Tensor] = [score]
    for t in range(1, length):
        # The emission of the next tag does not depend on the previous one:
        # add it after the max, on (batch, tags) instead of (batch, tags, tags).
        next_score = (score.unsqueeze(2) + transitions).amax(dim=1) + emissions[:, t]
        score = torch.where(mask[:, t].unsqueeze(1), next_score, score)
        scores.append(score)
    score = score + end
    _, best_last = score.max(dim=1)
    lengths = mask.sum(dim=1)
    cur = best_last
    tags[:, length - 1] = cur
    for t in range(length - 1, 0, -1):
        # The best previous tag for `cur`: the argmax of the same sums the
        # forward pass took the max of (first index on ties, as torchcrf).
        prev = (scores[t - 1] + transitions[:, cur].t()).argmax(dim=1)
        # Inside the sequence follow the back-pointer; in the padding, the
        # tag at the last real position is the best final tag.
        cur = torch.where(t < lengths, prev, best_last)
        tags[:, t - 1] = cur
    return tags * mask
