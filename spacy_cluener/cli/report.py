"""`report`: scores, error kinds, samples and charts of a pipeline on a DocBin."""
from pathlib import Path
from typing import Optional

import typer

from ..evaluation import evaluate, write_report
from ..evaluation.confidence import enable_scores
from ..evaluation.training_log import training_section
from ..training.calibration import heldout_indices
from ._app import Arg, Opt, app, load_pipeline, read_docbin


@app.command("report")
def report_cli(
    model: str = Arg(..., help="Pipeline name or path (e.g. training/model-best)"),
    data_path: Path = Arg(..., help="Gold .spacy file (from `convert`)", exists=True, dir_okay=False),
    output_dir: Path = Opt(..., "--output", "-o", help="Directory for report.json, report.md, PNGs, errors.html"),
    training_dir: Optional[Path] = Opt(
        None, "--training-dir", help="Output directory of `spacy train` (model-best/, model-last/)",
        exists=True, file_okay=False,
    ),
    training_log: Optional[Path] = Opt(
        None, "--training-log", help="Console output of `spacy train` (ConsoleLogger table) or its JSONL log",
        exists=True, dir_okay=False,
    ),
    n_samples: int = Opt(5, "--n-samples", "-n", min=0, help="Sampled errors per type"),
    seed: int = Opt(0, "--seed", help="Seed for sampling errors"),
    batch_size: int = Opt(256, "--batch-size", "-b", min=1, help="Docs per nlp.pipe batch"),
    target_precision: float = Opt(
        0.9, "--target-precision", min=0.0, max=1.0, help="Report the threshold that reaches this precision"
    ),
    scores: bool = Opt(
        True, "--scores/--no-scores",
        help="crf_ner's entity scores on (the confidence sections) or off for the report, whatever the pipeline's setting"
    ),
    gpu_id: int = Opt(-1, "--gpu-id", "-g", help="GPU id, or -1 for CPU"),
):
    """Evaluate a pipeline with strict entity matching and explain its errors.

    Writes report.json, report.md, per_type_f1.png, error_kinds.png,
    errors.html (displaCy: gold above predicted), type_confusion.png, and
    learning_curve.png when a training log is given or found
    (scripts/train.py writes training_log.jsonl into the training directory).
    With entity scores (crf_ner; on unless --no-scores, which turns them off), also the
    precision/recall against the threshold (threshold_curve.png), the
    threshold for --target-precision and the calibration (reliability.png,
    ECE). The pipeline's own threshold still decides doc.ents (the scores).
    When the pipeline was calibrated (`calibrate`) on DATA_PATH itself, the
    confidence sections are measured on the half it held out only.
    """
    nlp = load_pipeline(model, gpu_id)
    enable_scores(nlp, scores)
    gold_docs = list(read_docbin(data_path).get_docs(nlp.vocab))
    report = {"model": str(model), "data": str(data_path)}
    # never measure a calibration on the docs it was fitted on
    heldout = heldout_indices(nlp, data_path) if scores else None
    report.update(
        evaluate(
            nlp, gold_docs, n_samples=n_samples, seed=seed, batch_size=batch_size, target_precision=target_precision,
            confidence_docs=heldout,
        )
    )
    training, notes = training_section(training_dir, training_log)
    for note in notes:
        typer.echo(note, err=True)
    if training is not None:
        report["training"] = training
    written = write_report(report, output_dir, title=f"NER report: {model} on {data_path.name}")
    micro, macro = report["micro"], report["macro"]
    typer.echo(
        f"{report['n_docs_scored']} docs: micro P/R/F {_pct(micro['p'])}/{_pct(micro['r'])}/{_pct(micro['f'])}, "
        f"macro F {_pct(macro['f'])}, sentence accuracy {_pct(report['sentence_accuracy'])}"
    )
    confidence = report.get("confidence")
    if confidence:
        target, ece = confidence["target"], confidence["calibration"]["overall"]["ece"]
        where = (
            f"threshold {target['threshold']:.4f} keeps recall {_pct(target['r'])}"
            if target["threshold"] is not None else "no threshold reaches it"
        )
        ece_text = "n/a" if ece is None else f"{ece:.4f}"
        on = "" if confidence["docs"] == "all" else f" (on the {confidence['n_docs']} docs calibrate held out)"
        typer.echo(f"entity scores{on}: ECE {ece_text}; precision >= {_pct(target['target_precision'])}: {where}")
    typer.echo(f"Wrote {', '.join(written)} to {output_dir}")


def _pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}"
