"""Posterior marginals of the constrained CRF: token tags and whole entities.

The forward-backward pass is the one the loss's gradient uses
(`crf_likelihood.scaled_forward` / `scaled_backward`): float64, probability
space, each vector divided by its max at each position, forbidden transitions
(FORBIDDEN = -10000) exact zeros. So the marginals are those of the CRF that
training fits and Viterbi decodes, masks and all.

The marginal of an entity is the probability of its exact tag sub-sequence
y[s..e] (`B-X I-X ... E-X` or `S-X` in BIOES; in BIO `B-X I-X ...` followed
by a tag that is not `I-X`, or the end):

    P = alpha[s, y_s] * prod_{t=s+1..e} T[y_{t-1}, y_t] E[t, y_t] * beta'[e, y_e] / Z

where beta' is beta with the continuation tag (BIO's `I-X`) left out at
e + 1. With the scaled vectors, Z at position e is sum_j alpha[e, j] beta[e, j]
times the running scales, and the scales between s and e are those alpha was
divided by at s+1..e, so

    log P = log alpha^[s, y_s] + sum_{t=s+1..e} (log T^ + log E^ - log scale_t)
            + log beta^[e, y_e] - log sum_j alpha^[e, j] beta^[e, j] + log(beta'/beta)

with T^, E^ the shifted exp() factors. The sum over t is a difference of two
cumulative sums along the path, so all the spans of a batch are a few gathers.
"""
from typing import NamedTuple, Optional

import torch

from .crf_likelihood import _WORK, exp_factors, scaled_backward, scaled_forward, unary_marginals


class Posteriors(NamedTuple):
    """The scaled forward-backward quantities of a batch (float64)."""

    alpha: torch.Tensor  # (batch, length, tags), each position divided by its max
    beta: torch.Tensor  # (batch, length, tags), idem
    log_scales: torch.Tensor  # (batch, length): log of what alpha[:, t] was divided by
    log_trans: torch.Tensor  # (tags, tags): transitions minus their max
    log_emit: torch.Tensor  # (batch, length, tags): emissions minus their max per position
    exp_trans: torch.Tensor  # (tags, tags)
    exp_emit: torch.Tensor  # (batch, length, tags)
    mask: torch.Tensor  # (batch, length) bool


def crf_posteriors(
    emissions: torch.Tensor,
    mask: torch.Tensor,
    start_transitions: torch.Tensor,
    end_transitions: torch.Tensor,
    transitions: torch.Tensor,
) -> Posteriors:
    """Forward-backward over (batch, length, tags) emissions, batch first.

    mask (Tensor): (batch, length) prefix mask; mask[:, 0] must be set.
    Scores are taken as they are: pass the masked (constrained) parameters.
    """
    mask = mask.bool()
    with torch.no_grad():
        emissions = emissions.to(_WORK)
        transitions = transitions.to(_WORK)
        exp_trans, trans_shift, exp_emit, emit_shift, exp_end, _ = exp_factors(
            emissions, mask, end_transitions.to(_WORK), transitions
        )
        alpha, scales, _ = scaled_forward(emissions, start_transitions.to(_WORK), exp_trans, exp_emit)
        beta = scaled_backward(mask, exp_trans, exp_emit, exp_end)
        emissions = torch.where(mask.unsqueeze(2), emissions, emissions.new_zeros(()))
        # The logs of exp_trans and exp_emit, taken before exp(): finite also
        # for forbidden entries (about -10000), so the cumulative sums along a
        # path never meet inf - inf, and a forbidden step still gives exp() = 0.
        return Posteriors(
            alpha=alpha,
            beta=beta,
            log_scales=torch.log(scales),
            log_trans=transitions - trans_shift,
            log_emit=emissions - emit_shift,
            exp_trans=exp_trans,
            exp_emit=exp_emit,
            mask=mask,
        )


def token_marginals(post: Posteriors) -> torch.Tensor:
    """P(y_t = j) (batch, length, tags); rows of padding positions are 0."""
    return unary_marginals(post.alpha, post.beta) * post.mask.unsqueeze(2)


def span_marginals(
    post: Posteriors,
    tags: torch.Tensor,
    rows: torch.Tensor,
    starts: torch.Tensor,
    ends: torch.Tensor,
    stop_tags: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """Probability of each span's exact tag sub-sequence, (n_spans,) float64.

    tags (Tensor): (batch, length) tag ids that hold each span's tags at its
        positions (e.g. the Viterbi path; other positions are not read).
    rows, starts, ends (Tensor): (n_spans,) long: batch row, first and last
        position (inclusive) of each span.
    stop_tags (Optional[Tensor]): (n_spans,) long: a tag that may not follow
        the span (BIO's `I-X`, which would extend it), or -1 for none
        (BIOES spans delimit themselves).
    """
    alpha, beta, log_scales, log_trans, log_emit, exp_trans, exp_emit, mask = post
    batch, length, n_tags = alpha.shape
    if rows.numel() == 0:
        return alpha.new_zeros((0,))
    tags = tags.to(alpha.device).long()
    # Step scores along the given paths: step[b, t] is the log factor of
    # moving from tags[b, t-1] to tags[b, t], 0 at t = 0.
    step = log_trans[tags[:, :-1], tags[:, 1:]] + log_emit[:, 1:].gather(2, tags[:, 1:, None]).squeeze(2)
    step = step - log_scales[:, 1:]
    cum = torch.cat([step.new_zeros((batch, 1)), step.cumsum(1)], dim=1)
    first = tags[rows, starts]
    last = tags[rows, ends]
    log_p = torch.log(alpha[rows, starts, first]) + (cum[rows, ends] - cum[rows, starts])
    log_p = log_p + torch.log(beta[rows, ends, last])
    log_p = log_p - torch.log((alpha[rows, ends] * beta[rows, ends]).sum(1))
    prob = torch.exp(log_p)
    if stop_tags is not None:
        stop_tags = stop_tags.to(alpha.device).long()
        lengths = mask.sum(1)
        inside = (ends + 1 < lengths[rows]) & (stop_tags >= 0)
        if bool(inside.any()):
            nxt = (ends + 1).clamp_max(length - 1)
            # beta at e (up to its scale) is sum_j T[y_e, j] E[e+1, j] beta[e+1, j];
            # beta' leaves out j = stop tag.
            terms = exp_trans[last] * exp_emit[rows, nxt] * beta[rows, nxt]
            keep = torch.arange(n_tags, device=alpha.device) != stop_tags.clamp_min(0).unsqueeze(1)
            full = terms.sum(1)
            ratio = (terms * keep).sum(1) / full.clamp_min(torch.finfo(full.dtype).tiny)
            prob = torch.where(inside, prob * ratio, prob)
    return prob.clamp(0.0, 1.0)
