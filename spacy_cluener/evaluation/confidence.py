"""Entity confidence in the report: the threshold knob, calibration, type confusion.

Scores are read from the predicted docs, `doc.spans[key].attrs["scores"]`
(crf_ner's span marginals; spaCy's spancat stores its scores the same way),
over every entity of the group, so the curve covers thresholds below the
pipeline's own. An entity is correct when it matches a gold entity exactly
(span and type, after projection onto the gold tokens as `get_ner_prf`);
entities over unannotated gold tokens and docs without gold annotation are
left out, as in the scores. Rendering: `render.py`, `charts.py`.
"""
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import numpy
from spacy.language import Language
from spacy.training import Example

from .entity_errors import DocResult, project

N_BINS = 10
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(20)) + (0.97, 0.99)


@dataclass(frozen=True)
class ScoredEntity:
    label: str
    score: float
    correct: bool


def scores_key(nlp: Language) -> Optional[str]:
    """The `doc.spans` key of the first component that writes entity scores."""
    for _, pipe in nlp.pipeline:
        if getattr(pipe, "with_scores", False) and getattr(pipe, "spans_key", None):
            return pipe.spans_key
    return None


def enable_scores(nlp: Language, on: bool = True) -> List[str]:
    """Turn entity scores on (or off) for every crf_ner of `nlp`, for this
    process (`report`, `predict --scores`); a threshold above 0 still
    computes the scores it needs. RETURNS the names of those components."""
    return _set_on_crf_ners(nlp, "with_scores", on)


def enable_expected_errors(nlp: Language, on: bool = True) -> List[str]:
    """Turn each doc's expected number of wrong tags on (or off) for every
    crf_ner of `nlp`, for this process (`predict --uncertainty-first`,
    `--top`). RETURNS the names of those components."""
    return _set_on_crf_ners(nlp, "expected_errors", on)


def _set_on_crf_ners(nlp: Language, setting: str, on: bool) -> List[str]:
    from ..components.crf_ner import CRFEntityRecognizer

    names = []
    for name, pipe in nlp.pipeline:
        if isinstance(pipe, CRFEntityRecognizer):
            setattr(pipe, setting, on)
            names.append(name)
    return names


def scored_entities(examples: Sequence[Example], key: str) -> "tuple[List[ScoredEntity], int]":
    """Every scored entity of the predicted docs, and the number of gold
    entities of the scored docs (the recall's denominator)."""
    out: List[ScoredEntity] = []
    n_gold = 0
    for eg in examples:
        gold_doc, pred_doc = eg.reference, eg.predicted
        if not gold_doc.has_annotation("ENT_IOB"):
            continue
        gold = {(e.label_, e.start, e.end) for e in gold_doc.ents}
        n_gold += len(gold)
        if key not in pred_doc.spans:
            continue
        group = pred_doc.spans[key]
        scores = group.attrs.get("scores")
        if scores is None:
            continue
        align_x2y = eg.alignment.x2y
        for span, score in zip(group, scores):
            mention = project(span, gold_doc, align_x2y)
            if mention is not None:
                out.append(ScoredEntity(span.label_, float(score), mention.key in gold))
    return out, n_gold


def _prf(tp: int, kept: int, n_gold: int) -> Dict[str, Optional[float]]:
    p = tp / kept if kept else None
    r = tp / n_gold if n_gold else None
    f = 2 * p * r / (p + r) if p is not None and r is not None and p + r > 0 else (0.0 if kept else None)
    return {"p": p, "r": r, "f": f}


def threshold_curve(
    entities: Sequence[ScoredEntity], n_gold: int, thresholds: Sequence[float] = THRESHOLDS
) -> List[Dict[str, Any]]:
    """P, R, F of the entities scoring >= t, for each t."""
    scores = numpy.array([e.score for e in entities], dtype="float64")
    correct = numpy.array([e.correct for e in entities], dtype=bool)
    rows = []
    for t in thresholds:
        keep = scores >= t
        tp, kept = int((keep & correct).sum()), int(keep.sum())
        rows.append({"threshold": float(t), "kept": kept, "tp": tp, **_prf(tp, kept, n_gold)})
    return rows


def threshold_for_precision(
    entities: Sequence[ScoredEntity], n_gold: int, target: float
) -> Dict[str, Any]:
    """The lowest threshold (an entity's score) whose kept entities reach
    precision >= target: the most recall at that precision. threshold is None
    when no threshold reaches it."""
    out: Dict[str, Any] = {"target_precision": target, "threshold": None, "p": None, "r": None, "f": None,
                           "kept": 0}
    if not entities:
        return out
    scores = numpy.array([e.score for e in entities], dtype="float64")
    correct = numpy.array([e.correct for e in entities], dtype="int64")
    order = numpy.argsort(-scores, kind="stable")
    scores, correct = scores[order], correct[order]
    tp = numpy.cumsum(correct)
    kept = numpy.arange(1, len(scores) + 1)
    # Only cuts between distinct scores: ">= t" keeps every tie of t.
    last_of_tie = numpy.r_[scores[1:] != scores[:-1], True]
    ok = last_of_tie & (tp / kept >= target)
    if not ok.any():
        return out
    i = int(numpy.nonzero(ok)[0][-1])
    out.update(threshold=float(scores[i]), kept=int(kept[i]), **_prf(int(tp[i]), int(kept[i]), n_gold))
    return out


def calibration(entities: Sequence[ScoredEntity], n_bins: int = N_BINS) -> Dict[str, Any]:
    """Reliability bins (equal width on [0, 1]) and the expected calibration
    error: sum over bins of n_bin / n * |accuracy - mean score|."""
    scores = numpy.array([e.score for e in entities], dtype="float64")
    correct = numpy.array([e.correct for e in entities], dtype="float64")
    index = numpy.minimum((scores * n_bins).astype("int64"), n_bins - 1)
    bins, ece = [], 0.0
    for b in range(n_bins):
        inside = index == b
        n = int(inside.sum())
        row = {"lo": b / n_bins, "hi": (b + 1) / n_bins, "n": n, "confidence": None, "accuracy": None}
        if n:
            row["confidence"] = float(scores[inside].mean())
            row["accuracy"] = float(correct[inside].mean())
            ece += n / len(scores) * abs(row["accuracy"] - row["confidence"])
        bins.append(row)
    return {
        "n": len(entities),
        "ece": ece if len(entities) else None,
        "mean_score": float(scores.mean()) if len(entities) else None,
        "accuracy": float(correct.mean()) if len(entities) else None,
        "bins": bins,
    }


def confidence_section(
    examples: Sequence[Example], key: str, *, target_precision: float = 0.9
) -> Optional[Dict[str, Any]]:
    """The report's `confidence` section, or None when the predicted docs
    hold no scores under `key`."""
    if not any(key in eg.predicted.spans and "scores" in eg.predicted.spans[key].attrs for eg in examples):
        return None
    entities, n_gold = scored_entities(examples, key)
    labels = sorted({e.label for e in entities})
    return {
        "spans_key": key,
        "n_entities": len(entities),
        "n_gold": n_gold,
        "threshold_curve": threshold_curve(entities, n_gold),
        "target": threshold_for_precision(entities, n_gold, target_precision),
        "calibration": {
            "n_bins": N_BINS,
            "overall": calibration(entities),
            "per_type": {label: calibration([e for e in entities if e.label == label]) for label in labels},
        },
    }


def type_confusion(results: Sequence[DocResult]) -> Dict[str, Any]:
    """Gold type x predicted type counts of same-span type errors (the FP
    errors of kind `type`: the gold entity is the one they are confused with)."""
    counts: Dict[str, Dict[str, int]] = {}
    for result in results:
        for error in result.errors:
            if error.side == "fp" and error.kind == "type":
                row = counts.setdefault(error.other.label, {})
                row[error.label] = row.get(error.label, 0) + 1
    labels = sorted({g for g in counts} | {p for row in counts.values() for p in row})
    return {"labels": labels, "counts": counts, "total": sum(sum(r.values()) for r in counts.values())}
