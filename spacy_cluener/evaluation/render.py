"""Rendering of a report dict (`report.build_report`): markdown and a displaCy page.

Everything that comes from the data (texts, labels, entity strings, ids) is
escaped for the format it goes into.
"""
import html
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from spacy import displacy

from .entity_errors import FN_KINDS, FP_KINDS
from .report import KIND_TITLES


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
    lines += _confusion_md(report)
    if report.get("confidence"):
        lines += _confidence_md(report["confidence"])
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


def _confusion_md(report: Dict[str, Any]) -> List[str]:
    confusion = report.get("type_confusion")
    if not confusion or not confusion["total"]:
        return []
    lines = ["", "## Type confusion", "", "Same-span type errors: gold type (row) predicted as another type (column).", ""]
    labels = confusion["labels"]
    lines += ["| gold \\ predicted | " + " | ".join(_cell(label) for label in labels) + " |"]
    lines.append("| --- " + "| ---: " * len(labels) + "|")
    for gold in labels:
        row = confusion["counts"].get(gold, {})
        lines.append(f"| {_cell(gold)} | " + " | ".join(str(row.get(p, 0) or "") for p in labels) + " |")
    return lines


def _confidence_md(conf: Dict[str, Any]) -> List[str]:
    """Threshold table, the threshold for the target precision, calibration."""
    target, overall = conf["target"], conf["calibration"]["overall"]
    lines = ["", "## Entity confidence", ""]
    lines.append(
        f"Scores from `doc.spans[{conf['spans_key']!r}].attrs['scores']` (the CRF marginal of each "
        f"entity's exact tags), over {conf['n_entities']} predicted entities against {conf['n_gold']} gold."
    )
    if conf.get("docs", "all") != "all":
        lines.append(f"Measured on {conf['n_docs']} docs: {conf['docs']}.")
    if target["threshold"] is None:
        lines += ["", f"- no threshold reaches precision {_num(target['target_precision'])}"]
    else:
        lines += [
            "",
            f"- precision >= {_num(target['target_precision'])} from threshold {target['threshold']:.4f}: "
            f"P / R / F {_num(target['p'])} / {_num(target['r'])} / {_num(target['f'])} ({target['kept']} entities kept)",
        ]
    ece = "n/a" if overall["ece"] is None else f"{overall['ece']:.4f}"
    lines.append(f"- expected calibration error ({conf['calibration']['n_bins']} bins), overall: {ece}")
    lines += ["", "### Threshold", "", "| threshold | kept | P | R | F |", "| ---: | ---: | ---: | ---: | ---: |"]
    for row in conf["threshold_curve"]:
        lines.append(f"| {row['threshold']:.2f} | {row['kept']} | {_num(row['p'])} | {_num(row['r'])} | {_num(row['f'])} |")
    lines += ["", "### Calibration", "", "| type | entities | mean score | exact-match accuracy | ECE |",
              "| --- | ---: | ---: | ---: | ---: |"]
    rows = [("overall", overall)] + list(conf["calibration"]["per_type"].items())
    for label, row in rows:
        ece = "n/a" if row["ece"] is None else f"{row['ece']:.4f}"
        lines.append(f"| {_cell(label)} | {row['n']} | {_num(row['mean_score'])} | {_num(row['accuracy'])} | {ece} |")
    return lines


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
                        # displaCy escapes the text but not the labels
                        {"start": s["span"][0], "end": s["span"][1] + 1, "label": html.escape(s["label"])}
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


def write_report(report: Dict[str, Any], output_dir: Path, *, title: str) -> List[str]:
    """Write report.json, report.md, errors.html and the charts to `output_dir`.

    RETURNS (List[str]): the names of the files written.
    """
    from . import charts  # matplotlib, only when files are written

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    chart_names = [
        charts.plot_per_type_f1(report, output_dir / "per_type_f1.png").name,
        charts.plot_error_kinds(report, output_dir / "error_kinds.png").name,
    ]
    if report.get("type_confusion") is not None:
        chart_names.append(charts.plot_type_confusion(report, output_dir / "type_confusion.png").name)
    if report.get("confidence"):
        chart_names.append(charts.plot_threshold_curve(report["confidence"], output_dir / "threshold_curve.png").name)
        chart_names.append(charts.plot_reliability(report["confidence"], output_dir / "reliability.png").name)
    rows = report.get("training", {}).get("curve") or []
    if rows:
        chart_names.append(charts.plot_learning_curve(rows, output_dir / "learning_curve.png").name)
    (output_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (output_dir / "report.md").write_text(report_to_markdown(report, title=title, charts=chart_names), encoding="utf-8")
    (output_dir / "errors.html").write_text(errors_html(report), encoding="utf-8")
    return ["report.json", "report.md", "errors.html", *chart_names]
