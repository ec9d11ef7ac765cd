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

import numpy
import torch

from .crf_likelihood import _WORK, exp_factors, scaled_backward, scaled_forward, unary_marginals

_TINY = numpy.finfo("float64").tiny


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


def span_marginals_numpy(
    emissions: numpy.ndarray,
    lengths: numpy.ndarray,
    start_transitions: numpy.ndarray,
    end_transitions: numpy.ndarray,
    transitions: numpy.ndarray,
    tags: numpy.ndarray,
    rows: numpy.ndarray,
    starts: numpy.ndarray,
    ends: numpy.ndarray,
    stop_tags: Optional[numpy.ndarray] = None,
) -> numpy.ndarray:
    """`crf_posteriors` then `span_marginals` in numpy, for the few docs the
    CPU decodes with numpy's Viterbi: the same float64 sums, without torch's
    cost per call (about 20 calls per position in the two passes, which made
    one doc's scores cost a quarter of the pipeline's time; docs/speed.md).

    emissions (numpy.ndarray): (batch, length, tags), constraints applied
        (FORBIDDEN); positions past a doc's length are not read.
    lengths (numpy.ndarray): (batch,) int, each >= 1.
    start_transitions, end_transitions, transitions: the CRF's scores as
        `crf_posteriors` takes them (masked). tags, rows, starts, ends,
        stop_tags: as `span_marginals`; the spans of a doc must be
        consecutive (as `crf_decode` lists them).
    """
    out = numpy.zeros((len(rows),), dtype="float64")
    if len(rows) == 0:
        return out
    transitions = transitions.astype("float64")
    log_trans = transitions - transitions.max()
    exp_trans = numpy.exp(log_trans)
    end = end_transitions.astype("float64")
    exp_end = numpy.exp(end - end.max())
    start = start_transitions.astype("float64")
    rows, starts, ends = (numpy.asarray(x, dtype="int64") for x in (rows, starts, ends))
    stops = None if stop_tags is None else numpy.asarray(stop_tags, dtype="int64")
    row_list = rows.tolist()
    i = 0
    while i < len(row_list):
        j = i + 1
        while j < len(row_list) and row_list[j] == row_list[i]:
            j += 1
        row = row_list[i]
        out[i:j] = _doc_span_marginals(
            emissions[row, : int(lengths[row])], start, exp_end, log_trans, exp_trans, tags[row],
            starts[i:j], ends[i:j], None if stops is None else stops[i:j],
        )
        i = j
    return out


def _doc_span_marginals(emissions, start, exp_end, log_trans, exp_trans, tags, starts, ends, stops) -> numpy.ndarray:
    """The spans of one doc (length n = len(emissions)): the forward pass up
    to the last span's end, the backward pass down to the first span's end
    (all the spans need), one vector per step: for a few short docs numpy's
    cost per call, not the arithmetic, is what counts, so the loops make
    four calls per step and keep their rows in lists. Each vector is divided
    by its sum (a dot product, the cheapest reduction here), where the torch
    pass divides by its max: the scales cancel either way."""
    n = len(emissions)
    last, lowest = int(ends.max()), int(ends.min())
    ones = numpy.ones((len(start),))
    tiny = _TINY
    emissions = emissions.astype("float64")
    log_emit = emissions - emissions.max(axis=1, keepdims=True)
    exp_emit = numpy.exp(log_emit)
    rows = list(exp_emit)
    p = start + emissions[0]
    p = numpy.exp(p - p.max())
    alpha = [p]
    scales = [1.0]
    for t in range(1, last + 1):
        q = p.dot(exp_trans)
        q *= rows[t]
        s = q.dot(ones)
        if s < tiny:
            s = tiny
        q /= s
        alpha.append(q)
        scales.append(s)
        p = q
    b = exp_end
    beta = {n - 1: b}
    for t in range(n - 2, lowest - 1, -1):
        q = exp_trans.dot(rows[t + 1] * b)
        s = q.dot(ones)
        if s < tiny:
            s = tiny
        q /= s
        beta[t] = q
        b = q
    alpha = numpy.array(alpha)
    beta_at = [beta[int(e)] for e in ends]
    path = tags[: last + 1]
    step = log_trans[path[:-1], path[1:]] + log_emit[numpy.arange(1, last + 1), path[1:]] - numpy.log(scales[1:])
    cum = numpy.concatenate(([0.0], step.cumsum()))
    first_tag, last_tag = path[starts], path[ends]
    beta_e = numpy.array(beta_at)
    k = numpy.arange(len(ends))
    with numpy.errstate(divide="ignore", under="ignore"):
        log_p = numpy.log(alpha[starts, first_tag]) + numpy.log(beta_e[k, last_tag])
        log_p += cum[ends] - cum[starts] - numpy.log((alpha[ends] * beta_e).sum(axis=1))
        prob = numpy.exp(log_p)
    if stops is not None:
        inside = (ends + 1 < n) & (stops >= 0)
        if inside.any():
            nxt = numpy.minimum(ends + 1, n - 1)
            # beta at e is sum_j T[y_e, j] E[e+1, j] beta[e+1, j] (up to its
            # scale); beta' leaves out j = stop tag.
            terms = exp_trans[last_tag] * exp_emit[nxt] * numpy.array([beta[int(x)] for x in nxt])
            full = terms.sum(axis=1)
            kept = full - terms[k, numpy.maximum(stops, 0)]
            ratio = kept / numpy.maximum(full, tiny)
            prob = numpy.where(inside, prob * ratio, prob)
    return numpy.minimum(prob, 1.0)


def expected_errors_numpy(
    emissions: numpy.ndarray,
    start_transitions: numpy.ndarray,
    end_transitions: numpy.ndarray,
    transitions: numpy.ndarray,
    tags: numpy.ndarray,
) -> float:
    """One doc's expected number of wrong tags of `tags` (its Viterbi path):
    the sum over positions of 1 - P(y_t = tags[t]), from a full forward-
    backward in numpy (float64, each vector divided by its sum, as
    `_doc_span_marginals`), for the few docs the CPU decodes with numpy; the
    torch pass is `token_marginals`. emissions: (length, tags), constraints
    applied (FORBIDDEN); the CRF's scores masked, as `crf_posteriors` takes
    them."""
    n = len(emissions)
    tiny = _TINY
    emissions = emissions.astype("float64")
    exp_emit = numpy.exp(emissions - emissions.max(axis=1, keepdims=True))
    transitions = transitions.astype("float64")
    exp_trans = numpy.exp(transitions - transitions.max())
    end = end_transitions.astype("float64")
    exp_end = numpy.exp(end - end.max())
    p = start_transitions.astype("float64") + emissions[0]
    p = numpy.exp(p - p.max())
    alpha = [p]
    for t in range(1, n):
        q = p.dot(exp_trans)
        q *= exp_emit[t]
        q /= max(q.sum(), tiny)
        alpha.append(q)
        p = q
    b = exp_end
    beta = [b]
    for t in range(n - 2, -1, -1):
        q = exp_trans.dot(exp_emit[t + 1] * b)
        q /= max(q.sum(), tiny)
        beta.append(q)
        b = q
    gamma = numpy.array(alpha) * numpy.array(beta[::-1])
    gamma /= numpy.maximum(gamma.sum(axis=1, keepdims=True), tiny)
    return float(n - gamma[numpy.arange(n), numpy.asarray(tags[:n], dtype="int64")].sum())

