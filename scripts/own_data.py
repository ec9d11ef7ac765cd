"""Convert a user's own corpus for the `own-data` workflow.

    python scripts/own_data.py TRAIN DEV TEST --format conll|cluener|labelstudio|doccano \
        [--scheme BIO|BIOES|BMES] [--skip-invalid true] [--output-dir corpus]

Writes OUTPUT_DIR/own-{train,dev,test}.spacy. DEV may be "" (or "none"): then a
seeded 10 % of train is held out for checkpoint selection, as the `msra`
workflow does; the test file is only scored at the end. Every file's report
is printed (`FILE:LINE: rejected: ...`, `read N, written M, rejected K`); a
rejected record stops the run unless --skip-invalid true.
"""
from pathlib import Path

import spacy
import typer
from spacy.tokens import DocBin

from spacy_cluener.cli import run_script
from spacy_cluener.converters import DOCBIN_ATTRS, convert_file, write_docbin
from spacy_cluener.converters.split import split_docs
from spacy_cluener.tag_schemes import INPUT_SCHEMES, check_scheme

NO_FILE = ("", "none", "null")


def main(
    train_file: Path = typer.Argument(..., exists=True, dir_okay=False),
    dev_file: str = typer.Argument(..., help='Dev file, or "" to hold out 10 % of train'),
    test_file: Path = typer.Argument(..., exists=True, dir_okay=False),
    fmt: str = typer.Option("conll", "--format", help="conll, cluener, labelstudio (JSON export) or doccano (JSONL export)"),
    scheme: str = typer.Option("BIO", "--scheme", help="conll tags: BIO, BIOES or BMES"),
    skip_invalid: str = typer.Option("false", "--skip-invalid", help="true: write the valid records even if some are rejected"),
    output_dir: Path = typer.Option(Path("corpus"), "--output-dir"),
    dev_fraction: float = typer.Option(0.1, "--dev-fraction", min=0.0, max=1.0),
    seed: int = typer.Option(0, "--seed"),
):
    check_scheme(scheme, INPUT_SCHEMES)
    skip = skip_invalid.strip().lower() in ("1", "true", "yes")
    sources = {"train": train_file, "test": test_file}
    if dev_file.strip().lower() not in NO_FILE:
        sources["dev"] = Path(dev_file)
    parts = {}
    for split, path in sources.items():
        doc_bin, report = convert_file(path, fmt, scheme)
        for line in report.lines():
            typer.echo(line, err=True)
        typer.echo(report.summary())
        if report.rejected and not skip:
            typer.echo(f"Nothing written: {len(report.rejected)} record(s) rejected in {path}. "
                       "Fix them, or pass --vars.skip_invalid true.", err=True)
            raise typer.Exit(code=1)
        report.check_not_all_rejected()
        parts[split] = doc_bin
    if "dev" not in parts:
        docs = list(parts["train"].get_docs(spacy.blank("zh").vocab))
        train, dev = split_docs(docs, dev_fraction, seed)
        parts["train"] = DocBin(attrs=DOCBIN_ATTRS, docs=train)
        parts["dev"] = DocBin(attrs=DOCBIN_ATTRS, docs=dev)
        typer.echo(f"No dev file: held out {len(dev)} of {len(docs)} train docs (seed {seed}) for checkpoint selection")
    for split in ("train", "dev", "test"):
        path = output_dir / f"own-{split}.spacy"
        write_docbin(parts[split], path)
        typer.echo(f"Wrote {len(parts[split])} docs to {path}")


if __name__ == "__main__":
    run_script(main)
