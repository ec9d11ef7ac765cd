"""What `crf_ner` asks of its CRF, for a batch of docs: decode, score the
entities, and the loss. The component hands over numpy arrays (emission
scores, gold tag ids, per-token masks of the allowed tags) and gets numpy
back; padding, devices and the torch calls live here (component -> Thinc
model -> torch module, as spacy-experimental's coref keeps them).

A mask of allowed tags per token carries every constraint a doc can have:
standalone whitespace (only `O`), entities preset by an earlier component and
blocked tokens (their own tag), and, in training, the known tags of a
partially annotated doc. The emissions of the other tags become FORBIDDEN,
which Viterbi never takes and the float64 forward-backward turns into exact
zeros: decoding and the marginals are conditioned on the same constraints.
"""
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

import numpy
import torch
from thinc.api import Model, torch2xp, xp2torch
from thinc.types import Floats2d

from .crf_likelihood import FORBIDDEN, has_legal_path
from .crf_marginals import (
    Posteriors,
    crf_posteriors,
    expected_errors_numpy,
    span_marginals,
    span_marginals_numpy,
    token_marginals,
)
from .crf_tagger import get_crf_module, pad
from .pytorch_crf import length_mask
from .viterbi import viterbi

# (start, end exclusive, label, stop tag or -1): see CRFEntityRecognizer._entity_reader
Entity = Tuple[int, int, str, int]


# Up to this many docs per batch Viterbi runs in numpy on the CPU, above it in
# torch: measured on one thread, 41 tags, numpy 0.35 ms vs torch 1.8 ms for
# one 37-character doc, but 44 ms vs 35 ms for 256 docs of up to 60.
NUMPY_VITERBI_MAX_DOCS = 16


class Decoded(NamedTuple):
    """Tag ids per doc; with scores, the entities each doc's reader kept and
    their marginals, aligned; with errors, per doc the number of its tags the
    CRF expects to be wrong."""

    tag_ids: List[numpy.ndarray]
    entities: Optional[List[List[Entity]]] = None
    scores: Optional[List[numpy.ndarray]] = None
    errors: Optional[List[float]] = None


def crf_decode(
    model: Model,
    scores: Sequence[Floats2d],
    allowed: Sequence[Optional[numpy.ndarray]],
    n_tags: int,
    read_entities: Optional[Callable[[int, numpy.ndarray], List[Entity]]] = None,
    temperature: float = 1.0,
    with_errors: bool = False,
) -> Decoded:
    """Viterbi per doc over the emissions restricted to `allowed`.

    scores: (length, n_tags) emissions per doc.
    allowed: per doc, None (every tag) or a (length, n_tags) bool mask.
    read_entities: with it, the entities it reads from doc i's tag ids are
        scored (their marginal under the same constraints); None: no scores.
    temperature: the marginals are those of the scores divided by it.
    with_errors: also the expected number of wrong tags of each doc's path
        (`expected_errors`; 0.0 for an empty doc).
    """
    lengths = [len(s) for s in scores]
    keep = [i for i, n in enumerate(lengths) if n > 0]
    out = [numpy.zeros((n,), dtype="int64") for n in lengths]
    with_scores = read_entities is not None
    entities: Optional[List[List[Entity]]] = [[] for _ in lengths] if with_scores else None
    span_scores = [numpy.zeros((0,), dtype="float64") for _ in lengths] if with_scores else None
    errors: Optional[List[float]] = [0.0 for _ in lengths] if with_errors else None
    if not keep:
        return Decoded(out, entities, span_scores, errors)
    crf = get_crf_module(model)
    device = next(crf.parameters()).device
    kept = [scores[i] for i in keep]
    kept_lengths = [lengths[i] for i in keep]
    on_host = device.type == "cpu" and len(kept) <= NUMPY_VITERBI_MAX_DOCS and all(
        isinstance(s, numpy.ndarray) for s in kept)
    if on_host:
        # On the CPU, few docs: Viterbi in numpy (`viterbi.py`), the same tag
        # ids without torch's overhead per step, which dominated per-doc
        # decoding. For many docs torch's per-step cost is spread over the
        # batch and its kernels are faster (docs/speed.md).
        emissions_np = _pad_numpy(kept, n_tags)
        forbid_np = _forbidden_numpy(emissions_np.shape, [allowed[i] for i in keep])
        if forbid_np is not None:
            emissions_np[forbid_np] = FORBIDDEN
        params = crf_parameters(crf)
        best = viterbi(emissions_np, numpy.asarray(kept_lengths), *params)
    else:
        emissions = xp2torch(pad(model, kept, n_tags), device=device)
        mask = length_mask(kept_lengths, device)
        forbid = _forbidden(mask.shape, [allowed[i] for i in keep], n_tags)
        if forbid is not None:
            emissions = emissions.masked_fill(forbid.to(device), FORBIDDEN)
        best_t = crf.decode(emissions, mask)
        best = best_t.cpu().numpy()
    for row, i in enumerate(keep):
        out[i] = best[row, : lengths[i]]
    if with_scores:
        for i in keep:
            entities[i] = read_entities(i, out[i])
    # Nothing more to compute unless there are entities to score or the
    # expected errors are asked for.
    spans = _spans(keep, entities) if with_scores else None
    if spans is None and not with_errors:
        return Decoded(out, entities, span_scores, errors)
    if on_host:
        # The marginals in numpy too (`span_marginals_numpy`,
        # `expected_errors_numpy`): the same float64 sums as the torch pass,
        # at a fraction of its cost per call for a few docs.
        soft_np, soft_params = _tempered_numpy(emissions_np, params, temperature)
        if spans is not None:
            probs = span_marginals_numpy(soft_np, numpy.asarray(kept_lengths), *soft_params, best, *spans[:4])
            _assign(probs, spans[4], span_scores)
        if with_errors:
            for row, (i, n) in enumerate(zip(keep, kept_lengths)):
                errors[i] = expected_errors_numpy(soft_np[row, :n], *soft_params, best[row, :n])
    else:
        # One forward-backward for both.
        post = _posteriors(crf, emissions, mask, temperature)
        if spans is not None:
            _score_entities(post, best_t, spans, span_scores)
        if with_errors:
            for i, value in zip(keep, expected_errors(post, best_t)):
                errors[i] = float(value)
    return Decoded(out, entities, span_scores, errors)


def expected_errors(post: Posteriors, tags: torch.Tensor) -> numpy.ndarray:
    """Per doc (batch,), how many tags of `tags` (its Viterbi path) the CRF
    expects to be wrong: the sum over positions of 1 - P(y_t = tags[t]), from
    the token marginals of the same constrained, tempered CRF as the entity
    scores. Unlike the lowest entity score it counts the entities the model
    may have missed, so a text without predicted entities is not sure by
    default; `predict --top` orders by it (docs/labelling.md)."""
    marginals = token_marginals(post)
    right = marginals.gather(2, tags.to(marginals.device).long().unsqueeze(2)).squeeze(2)
    return (post.mask.sum(1).to(right.dtype) - right.sum(1)).cpu().numpy()


def _posteriors(crf, emissions: torch.Tensor, mask: torch.Tensor, temperature: float) -> Posteriors:
    """The batch's forward-backward under the scheme's masks, the scores
    divided by the temperature (forbidden entries stay FORBIDDEN: the
    constraints do not soften)."""
    torch_crf = crf.crf
    with torch.no_grad():
        params = [emissions.float(), torch_crf.start_transitions, torch_crf.end_transitions, torch_crf.transitions]
        if temperature != 1.0:
            params = [torch.where(x <= FORBIDDEN, x, x / temperature) for x in params]
        return crf_posteriors(params[0], mask, *params[1:])


def _tempered_numpy(emissions: numpy.ndarray, params, temperature: float):
    """`_posteriors`' scaling in numpy (float32, FORBIDDEN entries kept)."""
    if temperature == 1.0:
        return emissions, params
    scale = numpy.float32(temperature)
    soften = lambda x: numpy.where(x <= FORBIDDEN, x, x / scale).astype("float32")  # noqa: E731
    return soften(emissions), tuple(soften(x) for x in params)


def crf_parameters(crf) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """The CRF's (start, end, transitions) scores as float32 numpy arrays,
    the scheme's masks applied: the values `EmissionCRF.decode` uses
    (`_Mask`: FORBIDDEN where a move is not allowed), read from the raw
    parameters and masks without the parametrizations' torch calls (~130 us
    per doc)."""
    parametrizations = crf.crf.parametrizations
    out = []
    for name in ("start_transitions", "end_transitions", "transitions"):
        param = parametrizations[name]
        raw = param.original.detach().cpu().numpy().astype("float32", copy=False)
        allowed = param[0].allowed.cpu().numpy()
        out.append(numpy.where(allowed, raw, numpy.float32(FORBIDDEN)).astype("float32", copy=False))
    return tuple(out)


def _pad_numpy(seqs: Sequence[numpy.ndarray], width: int) -> numpy.ndarray:
    """(batch, longest, width) float32, zero-padded; one doc is not copied
    twice (the caller may write FORBIDDEN into the result)."""
    if len(seqs) == 1:
        return numpy.array(seqs[0], dtype="float32", copy=True)[None]
    longest = max(len(s) for s in seqs)
    out = numpy.zeros((len(seqs), longest, width), dtype="float32")
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return out


def _forbidden_numpy(shape, allowed: Sequence[Optional[numpy.ndarray]]) -> Optional[numpy.ndarray]:
    """As `_forbidden`, on the host in numpy."""
    if all(a is None for a in allowed):
        return None
    forbid = numpy.zeros(shape, dtype=bool)
    for row, a in enumerate(allowed):
        if a is not None:
            forbid[row, : len(a)] = ~numpy.asarray(a, dtype=bool)
    return forbid


def _forbidden(shape, allowed: Sequence[Optional[numpy.ndarray]], n_tags: int) -> Optional[torch.Tensor]:
    """(batch, longest, n_tags) bool: True where a tag is not allowed; None
    when no doc has a constraint. Filled on the host, copied once: row-by-row
    writes into a GPU tensor are one host-to-device copy per doc."""
    if all(a is None for a in allowed):
        return None
    forbid = torch.zeros((*shape, n_tags), dtype=torch.bool)
    for row, a in enumerate(allowed):
        if a is not None:
            forbid[row, : len(a)] = torch.from_numpy(~numpy.asarray(a, dtype=bool))
    return forbid


def _spans(keep: Sequence[int], entities: List[List[Entity]]) -> Optional[Tuple[numpy.ndarray, ...]]:
    """The entities of a batch as arrays (rows, starts, ends inclusive, stop
    tags, owner doc index), or None if there are none."""
    rows, starts, ends, stops, owners = [], [], [], [], []
    for row, i in enumerate(keep):
        for start, end, _label, stop in entities[i]:
            rows.append(row)
            starts.append(start)
            ends.append(end - 1)
            stops.append(stop)
            owners.append(i)
    if not rows:
        return None
    return tuple(numpy.asarray(x, dtype="int64") for x in (rows, starts, ends, stops, owners))


def _assign(probs: numpy.ndarray, owners: numpy.ndarray, span_scores: List[numpy.ndarray]) -> None:
    """Split the batch's span marginals by doc, into `span_scores`."""
    for i in set(owners.tolist()):
        span_scores[i] = probs[owners == i]


def _score_entities(post: Posteriors, best, spans, span_scores) -> None:
    """The marginal of every entity read from the Viterbi paths, from the
    batch's forward-backward (`_posteriors`), into `span_scores` (per doc,
    aligned with `entities`)."""
    rows, starts, ends, stops, owners = spans
    device = post.alpha.device
    as_long = lambda values: torch.from_numpy(values).to(device)  # noqa: E731
    probs = span_marginals(post, best, as_long(rows), as_long(starts), as_long(ends), as_long(stops))
    _assign(probs.cpu().numpy(), owners, span_scores)


def crf_loss(
    model: Model,
    scores: Sequence[Floats2d],
    gold: Sequence[Optional[Sequence[int]]],
    allowed: Sequence[Optional[numpy.ndarray]],
    n_tags: int,
) -> Tuple[float, List[Floats2d]]:
    """CRF negative log-likelihood, summed over the batch, and its gradient
    for each doc's emissions. The gradients of the CRF's own scores are
    accumulated on the torch parameters (`finish_update` applies them).

    gold: per doc, its tag ids when every token has one (the full
        likelihood, `crf_log_likelihood`), else None.
    allowed: per doc with gold None, a (length, n_tags) bool mask of the tags
        its annotation allows (the partial likelihood), or None: the doc adds
        nothing.
    """
    d_scores = [model.ops.alloc2f(*s.shape) for s in scores]
    crf = get_crf_module(model)
    device = next(crf.parameters()).device if crf is not None else None
    total = 0.0
    full = [i for i, tags in enumerate(gold) if tags is not None]
    if full:
        # Unchanged from before partial annotations: fully annotated batches
        # train bit for bit as they did.
        lengths = [len(gold[i]) for i in full]
        emissions = xp2torch(pad(model, [scores[i] for i in full], n_tags), requires_grad=True, device=device)
        # Filled on the host, copied to the device once (not once per doc).
        tags = torch.zeros(emissions.shape[:2], dtype=torch.long)
        for row, i in enumerate(full):
            tags[row, : lengths[row]] = torch.tensor(gold[i], dtype=torch.long)
        tags = tags.to(device)
        loss = crf.nll(emissions, tags, length_mask(lengths, device))
        loss.backward()
        d_emissions = torch2xp(emissions.grad)
        for row, i in enumerate(full):
            d_scores[i] = model.ops.as_contig(d_emissions[row, : lengths[row]])
        total += float(loss.item())
    partial = [i for i, a in enumerate(allowed) if a is not None and gold[i] is None]
    if partial:
        lengths = [len(allowed[i]) for i in partial]
        emissions = xp2torch(pad(model, [scores[i] for i in partial], n_tags), requires_grad=True, device=device)
        mask = length_mask(lengths, device)
        forbid = _forbidden(mask.shape, [allowed[i] for i in partial], n_tags)
        loss = crf.partial_nll(emissions, ~forbid.to(device), mask)
        loss.backward()
        d_emissions = torch2xp(emissions.grad)
        for row, i in enumerate(partial):
            d_scores[i] = model.ops.as_contig(d_emissions[row, : lengths[row]])
        total += float(loss.item())
    return total, d_scores


def legal_under_scheme(model: Model, allowed: numpy.ndarray) -> bool:
    """Whether a doc's mask of allowed tags leaves at least one path the
    scheme allows (gold tags cut by a misalignment might not)."""
    crf = get_crf_module(model)
    start, end, trans = (m.cpu().numpy() for m in crf.scheme_masks())
    return has_legal_path(numpy.asarray(allowed, dtype=bool), start, end, trans)
