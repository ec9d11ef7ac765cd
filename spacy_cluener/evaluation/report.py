"""The evaluation report: a JSON-ready dict, its markdown, and a displaCy page.

`build_report` sums the per-doc results of `entity_errors.analyse_examples`.
Scores are computed with spaCy's `PRFScore` over the same counts as
`get_ner_prf`, so `micro` equals `ents_p/r/f` and `macro` equals
`ents_macro_f` (the mean over the types in `ents_per_type`: every type that
occurs in the gold or the predictions; summed in label order, so the last
bit may differ). Error kinds: see `entity_errors`.
Spans in samples are `[start, end]` character offsets with `end` inclusive,
as in CLUENER files.
"""
import html
import random
from collections import defaultdict
from typing import Any, Dict, Iterable, List, Optional, Sequence

from spacy import displacy
from spacy.language import Language
from spacy.scorer import PRFScore
from spacy.tokens import Doc
from spacy.training import Example

from ..scoring import macro_prf
from .entity_errors import FN_KINDS, FP_KINDS, DocResult, EntityError, Mention

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


# ---------------------------------------------------------------- markdown


def _num(value: Optional[float], digits: int = 2) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _spans_md(spans: List[Dict[str, Any]]) -> str:
    if not spans:
        return "(none)"
    return "; ".join(f"{s['label']} {_code(s['entity'])} [{s['span'][0]}, {s['span'][1]}]" for s in spans)


def report_to_markdown(
    report: Dict[str, Any], *, title: str = "NER evaluation report", charts: Sequence[str] = ()
) -> str:
    """The report as markdown: summary, per-type table, error kinds, samples."""
    micro, macro = report["micro"], report["macro"]
    lines = [f"# {title}", ""]
    for key in ("model", "data"):
        if key in report:
            lines.append(f"- {key}: `{report[key]}`")
    lines += [
        f"- docs: {report['n_docs']} ({report['n_docs_scored']} with gold entity annotation)",
        f"- micro P / R / F: {_num(micro['p'])} / {_num(micro['r'])} / {_num(micro['f'])}"
        f" (tp {micro['tp']}, fp {micro['fp']}, fn {micro['fn']})",
        f"- macro P / R / F (mean over types): {_num(macro['p'])} / {_num(macro['r'])} / {_num(macro['f'])}",
        f"- sentence accuracy (predicted entity set = gold set): {_num(report['sentence_accuracy'])}",
    ]
    if report.get("ignored_predictions"):
        lines.append(f"- predictions ignored (over unannotated gold tokens): {report['ignored_predictions']}")
    lines += ["", "Strict matching: an entity is right only with the exact span and label.", ""]
    lines += ["## Per type", "", "| type | P | R | F | support | tp | fp | fn |"]
    lines.append("| --- " + "| ---: " * 7 + "|")
    for label, s in report["per_type"].items():
        lines.append(
            f"| {_cell(label)} | {_num(s['p'])} | {_num(s['r'])} | {_num(s['f'])} | {s['support']} "
            f"| {s['tp']} | {s['fp']} | {s['fn']} |"
        )
    lines += ["", "## Error kinds", ""]
    lines += [
        "Each false positive counts under its predicted type, each false negative under its gold "
        "type; FP kinds add up to fp and FN kinds to fn. `type`: same span, other type; "
        "`boundary`: same type, overlapping span; `type + boundary`: overlapping span, other type; "
        "`spurious`: prediction overlapping no gold entity; `missed`: gold entity overlapping no "
        "prediction.",
        "",
    ]
    header = ["type"] + [f"FP {KIND_TITLES[k]}" for k in FP_KINDS] + ["fp"]
    header += [f"FN {KIND_TITLES[k]}" for k in FN_KINDS] + ["fn"]
    lines += ["| " + " | ".join(header) + " |", "| --- " + "| ---: " * (len(header) - 1) + "|"]
    for label, sides in report["errors"].items():
        row = [_cell(label)] + [str(sides["fp"][k]) for k in FP_KINDS] + [str(sum(sides["fp"].values()))]
        row += [str(sides["fn"][k]) for k in FN_KINDS] + [str(sum(sides["fn"].values()))]
        lines.append("| " + " | ".join(row) + " |")
    training = report.get("training")
    if training:
        lines += ["", "## Training", ""]
        if training.get("log"):
            lines.append(f"- log: `{training['log']}` ({len(training.get('curve', []))} evaluations)")
        for which in ("best", "last"):
            perf = training.get(which)
            if perf:
                scores = ", ".join(
                    f"{k} {_num(v)}"
                    for k, v in perf.items()
                    if isinstance(v, (int, float)) and k != "speed" and not k.endswith("_loss")
                )
                lines.append(f"- model-{which} (dev scores from meta.json): {scores}")
    if charts:
        lines += ["", "## Charts", ""]
        lines += [f"![{name}]({name})" for name in charts]
    lines += ["", "## Sampled errors", ""]
    lines.append("Spans are `[start, end]` character offsets, end inclusive.")
    for label, samples in report["samples"].items():
        if not samples:
            continue
        lines += ["", f"### {label}", ""]
        for n, sample in enumerate(samples, start=1):
            ident = f"doc {sample['doc']}" + (f" (id {sample['id']})" if sample["id"] is not None else "")
            what = "predicted" if sample["side"] == "fp" else "gold"
            head = (
                f"{n}. {ident}: {sample['side'].upper()} `{sample['kind']}`: {what} {sample['label']} "
                f"{_code(sample['entity'])} [{sample['span'][0]}, {sample['span'][1]}]"
            )
            if sample["other"]:
                other = sample["other"]
                head += (
                    f" vs {'gold' if sample['side'] == 'fp' else 'predicted'} {other['label']} "
                    f"{_code(other['entity'])} [{other['span'][0]}, {other['span'][1]}]"
                )
            lines += [
                head,
                f"   - text: {_code(sample['text'])}",
                f"   - gold: {_spans_md(sample['gold'])}",
                f"   - predicted: {_spans_md(sample['predicted'])}",
            ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- displaCy

# displaCy colours only its own labels (PERSON, ORG, ...); these cover CLUENER
# and MSRA so that gold and predicted entities of a type look the same.
COLORS = {
    "address": "#feca74", "book": "#c887fb", "company": "#7aecec", "game": "#bfeeb7",
    "government": "#ffeb80", "movie": "#ff9561", "name": "#aa9cfc", "organization": "#9cc9cc",
    "position": "#e4e7d2", "scene": "#bfe1d9",
    "PER": "#aa9cfc", "LOC": "#feca74", "ORG": "#7aecec",
}


def errors_html(report: Dict[str, Any]) -> str:
    """A displaCy page: each sampled doc once, gold above predicted."""
    docs: Dict[int, Dict[str, Any]] = {}
    notes: Dict[int, List[str]] = defaultdict(list)
    for samples in report["samples"].values():
        for sample in samples:
            docs.setdefault(sample["doc"], sample)
            notes[sample["doc"]].append(
                f"{sample['side'].upper()} {sample['kind']} {sample['label']} "
                f"'{sample['entity']}' [{sample['span'][0]}, {sample['span'][1]}]"
            )
    parsed = []
    for index in sorted(docs):
        sample = docs[index]
        ident = f"doc {index}" + (f" (id {sample['id']})" if sample["id"] is not None else "")
        errors = "; ".join(notes[index])
        for which in ("gold", "predicted"):
            parsed.append(
                {
                    "text": sample["text"],
                    "ents": [
                        {"start": s["span"][0], "end": s["span"][1] + 1, "label": s["label"]}
                        for s in sample[which]
                    ],
                    # displaCy puts titles into the page unescaped
                    "title": html.escape(f"{ident} {which}" + (f" (sampled errors: {errors})" if which == "gold" else "")),
                    "settings": {"lang": "zh"},
                }
            )
    if not parsed:
        return "<!DOCTYPE html>\n<html><body><p>No errors.</p></body></html>\n"
    return displacy.render(parsed, style="ent", manual=True, page=True, jupyter=False, options={"colors": COLORS})
