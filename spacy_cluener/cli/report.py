"""`report`: scores, error kinds, samples and charts of a pipeline on a DocBin."""
import json
from pathlib import Path
from typing import Optional

import typer
from spacy.tokens import DocBin

from ..evaluation import (
    analyse_examples,
    build_report,
    errors_html,
    find_training_log,
    predict_examples,
    read_training_dir,
    read_training_log,
    report_to_markdown,
)
from ..scoring import score_entities
from ._app import Arg, Opt, app, load_pipeline


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
):
    """Evaluate a pipeline with strict entity matching and explain its errors.

    Writes report.json, report.md, per_type_f1.png, error_kinds.png,
    errors.html (displaCy: gold above predicted), and learning_curve.png
    when a training log is given or found. `spacy train` writes no per-step
    log of its own: pass its console output with --training-log, or keep it
    as DIR.log next to (or *.log inside) the --training-dir.
    """
    from ..evaluation import charts  # matplotlib: imported only when needed

    nlp = load_pipeline(model)
    gold_docs = list(DocBin().from_disk(data_path).get_docs(nlp.vocab))
    examples = predict_examples(nlp, gold_docs, batch_size=batch_size)
    report = {"model": str(model), "data": str(data_path)}
    report.update(build_report(analyse_examples(examples), n_samples=n_samples, seed=seed))
    # The report's matching mirrors get_ner_prf; say so loudly if they ever part.
    spacy_scores = score_entities(examples)
    if spacy_scores["ents_f"] != report["micro"]["f"]:
        typer.echo(
            f"Warning: micro F {report['micro']['f']} differs from spaCy's ents_f {spacy_scores['ents_f']}",
            err=True,
        )

    rows = []
    if training_log is None and training_dir is not None:
        training_log = find_training_log(training_dir)
        if training_log is None:
            typer.echo(
                f"No training log with scores found for {training_dir}: no learning curve. "
                "Pass the console output of `spacy train` with --training-log.",
                err=True,
            )
    if training_log is not None:
        rows = read_training_log(training_log)
        if not rows:
            typer.echo(f"{training_log}: no score table found; no learning curve.", err=True)
    if training_dir is not None or training_log is not None:
        report["training"] = {"log": str(training_log) if training_log else None, "curve": rows}
        if training_dir is not None:
            report["training"].update(read_training_dir(training_dir))

    output_dir.mkdir(parents=True, exist_ok=True)
    chart_names = [
        charts.plot_per_type_f1(report, output_dir / "per_type_f1.png").name,
        charts.plot_error_kinds(report, output_dir / "error_kinds.png").name,
    ]
    if rows:
        chart_names.append(charts.plot_learning_curve(rows, output_dir / "learning_curve.png").name)
    (output_dir / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (output_dir / "report.md").write_text(
        report_to_markdown(report, title=f"NER report: {model} on {data_path.name}", charts=chart_names),
        encoding="utf-8",
    )
    (output_dir / "errors.html").write_text(errors_html(report), encoding="utf-8")
    micro, macro = report["micro"], report["macro"]
    typer.echo(
        f"{report['n_docs_scored']} docs: micro P/R/F {_pct(micro['p'])}/{_pct(micro['r'])}/{_pct(micro['f'])}, "
        f"macro F {_pct(macro['f'])}, sentence accuracy {_pct(report['sentence_accuracy'])}"
    )
    typer.echo(f"Wrote report.json, report.md, errors.html, {', '.join(chart_names)} to {output_dir}")


def _pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}"
