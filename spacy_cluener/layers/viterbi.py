"""Viterbi in numpy, for decoding on the CPU.

The same recursion as `pytorch_crf.viterbi_decode`, operation for operation
in float32 (add, max over the previous tag, add the emission after the max;
the backtrace recomputes the argmax, first index on ties), so it returns the
same tag ids (tested against it and against pytorch-crf). Why a second one:
for the small arrays of one doc (41 tags, ~40 characters) each torch call
costs more than its arithmetic, and a torch Viterbi costs ~2.4 ms per doc
against ~0.5 ms in numpy (docs/speed.md). Training and GPU decoding keep
the torch one.
"""
import numpy


def viterbi(
    emissions: numpy.ndarray,
    lengths: numpy.ndarray,
    start: numpy.ndarray,
    end: numpy.ndarray,
    transitions: numpy.ndarray,
) -> numpy.ndarray:
    """Best tag ids (batch, length) of (batch, length, n_tags) float32
    emissions; positions past a doc's length are 0. Every length must be >= 1.

    lengths (numpy.ndarray): (batch,) int. start, end (numpy.ndarray):
        (n_tags,) float32, the scheme's masks applied. transitions
        (numpy.ndarray): (n_tags, n_tags) float32, [previous, next].
    """
    batch, length, _ = emissions.shape
    tags = numpy.zeros((batch, length), dtype="int64")
    if length == 0 or batch == 0:
        return tags
    lengths = numpy.asarray(lengths, dtype="int64")
    if batch == 1:
        tags[0, : lengths[0]] = _viterbi_one(emissions[0, : lengths[0]], start, end, transitions)
        return tags
    ragged = bool((lengths != length).any())
    mask = numpy.arange(length)[None, :] < lengths[:, None] if ragged else None
    score = start + emissions[:, 0]
    scores = [score]
    trans = transitions[None, :, :]
    for t in range(1, length):
        next_score = (score[:, :, None] + trans).max(axis=1) + emissions[:, t]
        score = numpy.where(mask[:, t, None], next_score, score) if ragged else next_score
        scores.append(score)
    best_last = (score + end).argmax(axis=1)
    cur = best_last
    tags[:, length - 1] = cur
    for t in range(length - 1, 0, -1):
        prev = (scores[t - 1] + transitions[:, cur].T).argmax(axis=1)
        cur = numpy.where(t < lengths, prev, best_last) if ragged else prev
        tags[:, t - 1] = cur
    return tags * mask if ragged else tags


def _viterbi_one(emissions: numpy.ndarray, start: numpy.ndarray, end: numpy.ndarray,
                 transitions: numpy.ndarray) -> list:
    """One doc's best tag ids: the same sums as `viterbi`, in 2-d arrays with
    the previous tag last (contiguous), backpointers kept from the forward
    pass and followed in Python. About half the cost of the batched loop for
    one doc, the `nlp(text)` case, where numpy's per-call cost dominates."""
    n_tags = transitions.shape[0]
    to_from = numpy.ascontiguousarray(transitions.T)  # [next, previous]
    flat = numpy.arange(n_tags) * n_tags
    score = start + emissions[0]
    pointers = []
    for t in range(1, len(emissions)):
        candidates = to_from + score
        best = candidates.argmax(axis=1)  # first index on ties, as the batched loop
        pointers.append(best)
        score = candidates.ravel()[flat + best] + emissions[t]
    cur = int((score + end).argmax())
    path = [cur]
    for best in reversed(numpy.array(pointers).tolist()):
        cur = best[cur]
        path.append(cur)
    return path[::-1]
