"""Entity-level scores: spaCy's `get_ner_prf` plus a macro average.

Scores are strict entity matches (same span, same label), never token tags.
`ents_macro_f` is the mean of the per-type F-scores, so that
`[training.score_weights]` can pick the best checkpoint by macro F1 and a
frequent type cannot hide a weak rare one. Examples without a single gold
entity score 0 (or nothing) whatever the model does: that is warned about
(W003, once per process), not scored in silence.
"""
import warnings
from typing import Any, Dict, Iterable

from spacy.scorer import get_ner_prf
from spacy.training import Example
from spacy.util import registry

from .errors import Warnings


def macro_prf(per_type: Dict[str, Dict[str, float]]) -> Dict[str, float]:
    """Unweighted mean of per-type P, R and F (0.0 when there are no types)."""
    n = len(per_type)
    return {
        key: (sum(scores[key] for scores in per_type.values()) / n) if n else 0.0
        for key in ("p", "r", "f")
    }


def score_entities(examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
    """ents_p/r/f, ents_per_type (spaCy) and ents_macro_p/r/f."""
    examples = list(examples)
    if not any(len(eg.reference.ents) for eg in examples):
        warnings.warn(Warnings.W003.format(n=len(examples)), stacklevel=2)
    scores = get_ner_prf(examples, **kwargs)
    per_type = scores["ents_per_type"]
    macro = macro_prf(per_type) if per_type is not None else dict.fromkeys("prf")
    for key, value in macro.items():
        scores[f"ents_macro_{key}"] = value
    return scores


@registry.scorers("spacy_cluener.entity_scorer.v1")
def make_entity_scorer():
    return score_entities
