"""A temperature for crf_ner's entity scores, fitted on held-out training data.

The CRF's marginals can be over-confident on new text (the model fits its
training data: on CLUENER train its scores are calibrated, on dev they are
not). Dividing every score of the CRF (emissions, transitions; forbidden
entries stay forbidden) by T > 1 softens the marginals without changing
Viterbi, hence without changing doc.ents at threshold 0. T is fitted by
minimising the log-loss of the entity scores against exact-match correctness
on docs the model was NOT trained on, and never on the data it is evaluated
on (dev, test): a split of train held out from training (scripts/split_corpus.py).
It is stored in the component's cfg (`temperature`), so it is saved with the model.
"""
import math
from typing import Dict, List, Sequence

from spacy.language import Language
from spacy.tokens import Doc

from ..evaluation.confidence import enable_scores, scored_entities
from ..evaluation.report import predict_examples

_EPS = 1e-6


def _log_loss(nlp: Language, gold_docs: Sequence[Doc], name: str, temperature: float, key: str) -> float:
    nlp.get_pipe(name).temperature = temperature
    entities, _ = scored_entities(predict_examples(nlp, gold_docs), key)
    if not entities:
        return 0.0
    total = 0.0
    for e in entities:
        p = min(max(e.score, _EPS), 1 - _EPS)
        total -= math.log(p) if e.correct else math.log(1 - p)
    return total / len(entities)


def fit_temperature(
    nlp: Language, heldout: Sequence[Doc], *, name: str = "crf_ner", low: float = 0.25, high: float = 8.0,
    steps: int = 14,
) -> Dict[str, float]:
    """Golden-section search of log T in [low, high] for the lowest log-loss
    on `heldout` (gold docs); sets the component's `temperature`.

    RETURNS (Dict[str, float]): temperature, and the log-loss at T = 1 and at T.
    """
    enable_scores(nlp)
    comp = nlp.get_pipe(name)
    key = comp.spans_key
    heldout = list(heldout)
    cache: Dict[float, float] = {}

    def loss(log_t: float) -> float:
        if log_t not in cache:
            cache[log_t] = _log_loss(nlp, heldout, name, math.exp(log_t), key)
        return cache[log_t]

    a, b = math.log(low), math.log(high)
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    for _ in range(steps):
        if loss(c) < loss(d):
            b, d = d, c
            c = b - ratio * (b - a)
        else:
            a, c = c, d
            d = a + ratio * (b - a)
    candidates: List[float] = [0.0, c, d]
    best = min(candidates, key=loss)
    comp.temperature = math.exp(best)
    return {"temperature": math.exp(best), "log_loss_t1": loss(0.0), "log_loss": loss(best)}
