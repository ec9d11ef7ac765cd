"""The evaluation report as a JSON-ready dict (rendering: `render.py`).

`build_report` sums the per-doc results of `entity_errors.analyse_examples`.
Scores are computed with spaCy's `PRFScore` over the same counts as
`get_ner_prf`, so `micro` equals `ents_p/r/f` and `macro` equals
`ents_macro_f` (the mean over the types in `ents_per_type`: every type that
occurs in the gold or the predictions; summed in label order, so the last
bit may differ). Error kinds: see `entity_errors`.
Spans in samples are `[start, end]` character offsets with `end` inclusive,
as in CLUENER files. `type_confusion` counts same-span type errors; when the
pipeline writes entity scores, `confidence` holds the threshold curve,
the threshold for a target precision and the calibration (`confidence.py`).
"""
import random
import warnings
from collections import defaultdict
from typing import Any, Dict, Iterable, List, Optional, Sequence

from spacy.language import Language
from spacy.scorer import PRFScore
from spacy.tokens import Doc
from spacy.training import Example

from ..errors import Warnings
from ..scoring import macro_prf, score_entities
from .confidence import confidence_section, scores_key, type_confusion
from .entity_errors import FN_KINDS, FP_KINDS, DocResult, EntityError, Mention, analyse_examples

KIND_TITLES = {
    "type": "type",
    "boundary": "boundary",
    "type_and_boundary": "type + boundary",
    "spurious": "spurious",
    "missed": "missed",
}


def predict_examples(nlp: Language, gold_docs: Iterable[Doc], batch_size: int = 256) -> List[Example]:
    """Run the pipeline on fresh docs of the gold texts; Example(pred, gold).

    The predicted docs are made with `nlp.make_doc(gold.text)`, so nothing of
    the gold annotation can leak into them (unlike running on the gold docs).
    """
    gold_docs = list(gold_docs)
    preds = nlp.pipe((nlp.make_doc(gold.text) for gold in gold_docs), batch_size=batch_size)
    return [Example(pred, gold) for pred, gold in zip(preds, gold_docs)]


def build_report(results: Sequence[DocResult], *, n_samples: int = 5, seed: int = 0) -> Dict[str, Any]:
    """Scores, error kinds and `n_samples` seeded error samples per type."""
    counts: Dict[str, PRFScore] = defaultdict(PRFScore)
    errors: Dict[str, Dict[str, Dict[str, int]]] = {}
    scored = [r for r in results if r.scored]
    for result in scored:
        for label in result.pred_labels:
            counts[label]  # spaCy lists a predicted type even if never scored
        for mention in result.tp:
            counts[mention.label].tp += 1
        for error in result.errors:
            if error.side == "fp":
                counts[error.label].fp += 1
            else:
                counts[error.label].fn += 1
    labels = sorted(counts)
    for label in labels:
        errors[label] = {"fp": dict.fromkeys(FP_KINDS, 0), "fn": dict.fromkeys(FN_KINDS, 0)}
    for result in scored:
        for error in result.errors:
            errors[error.label][error.side][error.kind] += 1
    per_type = {
        label: {
            **counts[label].to_dict(),
            "tp": counts[label].tp,
            "fp": counts[label].fp,
            "fn": counts[label].fn,
            "support": counts[label].tp + counts[label].fn,
        }
        for label in labels
    }
    totals = PRFScore()
    for label in labels:
        totals += counts[label]
    if len(totals) > 0:
        micro = totals.to_dict()
        macro = macro_prf(per_type)
    else:  # as get_ner_prf: no entity anywhere, no score
        micro = dict.fromkeys("prf")
        macro = dict.fromkeys("prf")
    micro.update(tp=totals.tp, fp=totals.fp, fn=totals.fn)
    return {
        "n_docs": len(results),
        "n_docs_scored": len(scored),
        "ignored_predictions": sum(r.ignored for r in scored),
        "micro": micro,
        "macro": macro,
        "per_type": per_type,
        "sentence_accuracy": (sum(r.exact for r in scored) / len(scored)) if scored else None,
        "errors": errors,
        "type_confusion": type_confusion(scored),
        "samples": sample_errors(scored, labels, n_samples, seed),
    }


def sample_errors(
    results: Sequence[DocResult], labels: Sequence[str], n_samples: int, seed: int
) -> Dict[str, List[Dict[str, Any]]]:
    """Up to n_samples errors per type, drawn with one seeded RNG in label order."""
    by_label: Dict[str, List[Any]] = defaultdict(list)
    for result in results:
        for error in result.errors:
            by_label[error.label].append((result, error))
    rng = random.Random(seed)
    samples = {}
    for label in labels:
        pool = by_label.get(label, [])
        picked = sorted(rng.sample(range(len(pool)), min(n_samples, len(pool))))
        samples[label] = [_sample(*pool[i]) for i in picked]
    return samples


def _span(mention: Mention) -> Dict[str, Any]:
    return {
        "label": mention.label,
        "span": [mention.start_char, mention.end_char - 1],
        "entity": mention.text,
    }


def _sample(result: DocResult, error: EntityError) -> Dict[str, Any]:
    return {
        "doc": result.index,
        "id": result.doc_id,
        "text": result.text,
        "side": error.side,
        "kind": error.kind,
        **_span(error.mention),
        "other": _span(error.other) if error.other is not None else None,
        "gold": [_span(m) for m in result.gold],
        "predicted": [_span(m) for m in result.pred],
    }


def evaluate(
    nlp: Language,
    gold_docs: Iterable[Doc],
    *,
    n_samples: int = 5,
    seed: int = 0,
    batch_size: int = 256,
    target_precision: float = 0.9,
    confidence_docs: Optional[Sequence[int]] = None,
) -> Dict[str, Any]:
    """Run `nlp` on the gold texts and build the report (as spaCy's
    `evaluate` for `evaluate_cli`). The confidence section is there when a
    component writes entity scores (crf_ner with scores on).

    confidence_docs (Optional[Sequence[int]]): the indices of the docs the
        confidence section is measured on (those `calibrate` held out when it
        fitted on this corpus); None: all of them.
    """
    examples = predict_examples(nlp, gold_docs, batch_size=batch_size)
    report = build_report(analyse_examples(examples), n_samples=n_samples, seed=seed)
    key = scores_key(nlp)
    scored = examples if confidence_docs is None else [examples[i] for i in confidence_docs if i < len(examples)]
    section = confidence_section(scored, key, target_precision=target_precision) if key else None
    if section is not None:
        section["n_docs"] = len(scored)
        section["docs"] = (
            "all" if confidence_docs is None
            else "the half calibrate held out (the other half fitted the calibration)"
        )
        report["confidence"] = section
    # The report's matching mirrors get_ner_prf; say so loudly if they ever part.
    spacy_f = score_entities(examples)["ents_f"]
    if spacy_f != report["micro"]["f"]:
        warnings.warn(Warnings.W002.format(ours=report["micro"]["f"], spacy=spacy_f), stacklevel=2)
    return report
