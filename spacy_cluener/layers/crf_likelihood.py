"""The CRF log-likelihood, as `torchcrf.CRF.forward(..., reduction="none")`.

pytorch-crf's normalizer takes a (batch, tags, tags) logsumexp, and autograd
records it, at every position. Here the gold score is one gather over all
positions, and the normalizer is the forward algorithm in probability space:
one (batch, tags) @ (tags, tags) matmul per position, rescaled by its max, so
the only work of size tags**2 is in the matmul. The gradient is not taken by
autograd through that loop: it is the posterior marginals, computed by one
backward pass and one matmul (`_LogPartition`).

A log-depth scan (a tree of log-semiring matrix products) was measured
slower on CPU: every product costs tags**3 in a matmul plus several
elementwise passes over tags**2 entries, against tags**2 in the loop.

The recursion runs in float64 whatever the input dtype: exp() then keeps
scores down to ~708 below the best (float32: ~87), so a path that is unlikely
at one position but needed later (the only route to a strong tag) is not lost.
Forbidden transitions (-10000) become exact zeros, as they are in the
reference's logsumexp.
"""
import torch

# Internal dtype of the recursion (see module docstring).
_WORK = torch.float64
# Score given to a forbidden transition or tag. Finite so that masked sums stay
# finite; low enough that no sequence of emissions can make a forbidden path
# win, and exp() of it, shifted by a position's max, is an exact 0 in float64.
FORBIDDEN = -10000.0


def crf_log_likelihood(
    emissions: torch.Tensor,
    tags: torch.Tensor,
    mask: torch.Tensor,
    start_transitions: torch.Tensor,
    end_transitions: torch.Tensor,
    transitions: torch.Tensor,
) -> torch.Tensor:
    """Log-likelihood of the gold tags, per sequence, batch first.

    emissions (Tensor): (batch, length, tags) scores.
    tags (Tensor): (batch, length) gold tag ids (long).
    mask (Tensor): (batch, length), a prefix mask; mask[:, 0] must be set.
    start_transitions, end_transitions (Tensor): (tags,) scores.
    transitions (Tensor): (tags, tags) scores, [from, to].
    RETURNS (Tensor): (batch,) in the dtype of `emissions`.
    """
    mask = mask.bool()
    gold = gold_score(emissions, tags, mask, start_transitions, end_transitions, transitions)
    log_z = crf_log_partition(emissions, mask, start_transitions, end_transitions, transitions)
    return gold - log_z


def crf_partial_log_likelihood(
    emissions: torch.Tensor,
    allowed: torch.Tensor,
    mask: torch.Tensor,
    start_transitions: torch.Tensor,
    end_transitions: torch.Tensor,
    transitions: torch.Tensor,
) -> torch.Tensor:
    """Log-probability of the set of tag paths that agree with the known tags,
    per sequence: the log-partition restricted to `allowed`, minus log Z.

    A partially annotated doc (tokens with a missing tag, spaCy's "-") thus
    trains on what is annotated: the missing tokens are summed over. With one
    allowed tag per position it is `crf_log_likelihood` (by another route:
    fully annotated docs keep that function). The restriction sets the
    emissions of the other tags to FORBIDDEN, which the float64 recursion
    turns into exact zeros, as it does forbidden transitions; their gradient
    is 0.

    allowed (Tensor): (batch, length, tags) bool; every real position needs
        at least one allowed tag, and the known tags a legal path (check with
        `has_legal_path`).
    RETURNS (Tensor): (batch,) in the dtype of `emissions`, <= 0.
    """
    mask = mask.bool()
    constrained = emissions.masked_fill(~allowed.bool(), FORBIDDEN)
    log_z_known = crf_log_partition(constrained, mask, start_transitions, end_transitions, transitions)
    log_z = crf_log_partition(emissions, mask, start_transitions, end_transitions, transitions)
    return log_z_known - log_z


def has_legal_path(allowed, start_ok, end_ok, trans_ok) -> bool:
    """Whether some tag path allowed at every position (allowed: (length,
    tags) bool) is legal under the scheme's start/end/transition masks (bool
    arrays or tensors): gold tags cut by a misalignment could leave none,
    and then the constrained sum is only forbidden paths."""
    reach = allowed[0] & start_ok
    for t in range(1, len(allowed)):
        reach = (reach[:, None] & trans_ok).any(0) & allowed[t]
    return bool((reach & end_ok).any())


def gold_score(emissions, tags, mask, start_transitions, end_transitions, transitions):
    """Score of the gold path (batch,), all positions at once."""
    mask = mask.bool()
    zero = emissions.new_zeros(())
    # where(), not a product with the mask: padding that holds inf/nan stays out.
    emit = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)
    score = torch.where(mask, emit, zero).sum(1)
    step = transitions[tags[:, :-1], tags[:, 1:]]
    score = score + torch.where(mask[:, 1:], step, zero).sum(1)
    last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)
    return score + start_transitions[tags[:, 0]] + end_transitions[last]


def crf_log_partition(emissions, mask, start_transitions, end_transitions, transitions):
    """Log of the sum over all tag paths of exp(score), per sequence (batch,)."""
    dtype = emissions.dtype
    log_z = _LogPartition.apply(
        emissions.to(_WORK),
        mask.bool(),
        start_transitions.to(_WORK),
        end_transitions.to(_WORK),
        transitions.to(_WORK),
    )
    return log_z.to(dtype)


def _exp_shifted(x: torch.Tensor, dim=None):
    """exp(x - max) and the max: the largest entry becomes 1."""
    shift = x.amax() if dim is None else x.amax(dim, keepdim=True)
    return torch.exp(x - shift), shift


class _LogPartition(torch.autograd.Function):
    """Forward algorithm; the backward pass returns the posterior marginals.

    alpha[:, t] is the forward vector at t divided by its max, beta that of
    the backward pass; each t is normalised on its own when the marginals
    are formed, so the running scales never meet. The backward pass restarts
    beta at the end scores at each sequence's last position.
    """

    @staticmethod
    def forward(ctx, emissions, mask, start, end, transitions):
        exp_trans, trans_shift, exp_emit, emit_shift, exp_end, end_shift = exp_factors(
            emissions, mask, end, transitions
        )
        alpha, scales, first_shift = scaled_forward(emissions, start, exp_trans, exp_emit)
        batch = alpha.shape[0]
        lengths = mask.sum(1)
        last = alpha[torch.arange(batch, device=alpha.device), lengths - 1]
        steps = torch.log(scales) + trans_shift + emit_shift.squeeze(2)
        steps = torch.where(mask, steps, steps.new_zeros(()))[:, 1:].sum(1)
        log_z = torch.log(last @ exp_end) + end_shift + first_shift.squeeze(1) + steps
        ctx.save_for_backward(mask, alpha, exp_trans, exp_emit, exp_end)
        return log_z

    @staticmethod
    def backward(ctx, grad):
        mask, alpha, exp_trans, exp_emit, exp_end = ctx.saved_tensors
        batch, length, n_tags = alpha.shape
        tiny = torch.finfo(alpha.dtype).tiny
        beta = scaled_backward(mask, exp_trans, exp_emit, exp_end)
        gamma = unary_marginals(alpha, beta)
        gamma = gamma * (mask.unsqueeze(2) * grad.view(batch, 1, 1))
        lengths = mask.sum(1)
        d_start = gamma[:, 0].sum(0)
        d_end = gamma[torch.arange(batch, device=gamma.device), lengths - 1].sum(0)
        d_trans = torch.zeros_like(exp_trans)
        if length > 1:
            # Pairwise marginals alpha[t-1, i] T[i, j] u[t, j] / norm, summed
            # over the batch and positions in one matmul.
            prev = alpha[:, :-1].reshape(-1, n_tags)
            u = (exp_emit[:, 1:] * beta[:, 1:]).reshape(-1, n_tags)
            norm = ((prev @ exp_trans) * u).sum(1, keepdim=True).clamp_min(tiny)
            weight = (mask[:, 1:] * grad.view(batch, 1)).reshape(-1, 1)
            d_trans = exp_trans * (prev.t() @ (u * (weight / norm)))
        return gamma, None, d_start, d_end, d_trans


# The recursions below are shared by the loss (`_LogPartition`) and by the
# posterior marginals of `crf_marginals` (entity confidence): one home, so
# that training and confidence see the same constrained CRF.


def exp_factors(emissions, mask, end, transitions):
    """exp() of the scores, each shifted by its max (see `_exp_shifted`):
    (exp_trans, trans_shift, exp_emit, emit_shift, exp_end, end_shift).
    Padding emissions are set to 0 first, which keeps every product finite."""
    emissions = torch.where(mask.unsqueeze(2), emissions, emissions.new_zeros(()))
    exp_trans, trans_shift = _exp_shifted(transitions)
    exp_emit, emit_shift = _exp_shifted(emissions, dim=2)
    exp_end, end_shift = _exp_shifted(end)
    return exp_trans, trans_shift, exp_emit, emit_shift, exp_end, end_shift


def scaled_forward(emissions, start, exp_trans, exp_emit):
    """The forward vectors, each divided by its max: (alpha, scales, first_shift).

    alpha (batch, length, tags); scales (batch, length): the max that step t
    was divided by (1 at t = 0); first_shift (batch, 1): the max of
    start + emissions[:, 0]. Runs past each sequence's end (the padding is
    finite): no where() per step; callers pick out the real positions.
    """
    length = emissions.shape[1]
    alpha = torch.empty_like(exp_emit)
    scales = torch.ones_like(exp_emit[:, :, 0])
    p, first_shift = _exp_shifted(start + emissions[:, 0], dim=1)
    alpha[:, 0] = p
    tiny = torch.finfo(p.dtype).tiny
    for t in range(1, length):
        q = torch.mm(p, exp_trans).mul_(exp_emit[:, t])
        s = q.amax(1, keepdim=True).clamp_min_(tiny)
        p = q.div_(s)
        alpha[:, t] = p
        scales[:, t] = s.squeeze(1)
    return alpha, scales, first_shift


def scaled_backward(mask, exp_trans, exp_emit, exp_end):
    """The backward vectors, each divided by its max, (batch, length, tags);
    restarted at the end scores at each sequence's last position."""
    batch, length, n_tags = exp_emit.shape
    tiny = torch.finfo(exp_emit.dtype).tiny
    beta = torch.empty_like(exp_emit)
    trans_t = exp_trans.t().contiguous()
    b = exp_end.expand(batch, n_tags)
    beta[:, length - 1] = b
    for t in range(length - 2, -1, -1):
        q = torch.mm(exp_emit[:, t + 1] * b, trans_t)
        q = q.div_(q.amax(1, keepdim=True).clamp_min_(tiny))
        b = torch.where(mask[:, t + 1].unsqueeze(1), q, exp_end)
        beta[:, t] = b
    return beta


def unary_marginals(alpha, beta):
    """P(tag at t = j): alpha * beta, normalised at each position (the
    running scales of alpha and beta cancel there)."""
    tiny = torch.finfo(alpha.dtype).tiny
    gamma = alpha * beta
    return gamma / gamma.sum(2, keepdim=True).clamp_min(tiny)
