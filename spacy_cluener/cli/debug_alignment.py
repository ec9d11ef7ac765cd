"""`debug-alignment`: what the transformer feeds the CRF, one row per wordpiece."""
from pathlib import Path
from typing import Optional

import typer

from ..debugging.alignment import (
    check_alignment,
    count_docs,
    find_pipes,
    format_doc,
    load_pipeline,
    read_examples,
    summary_lines,
)
from ._app import Arg, Opt, app, use_gpu


@app.command("debug-alignment")
def debug_alignment_cli(
    model: Path = Arg(..., help="Trained pipeline directory, or a training config (.cfg)", exists=True),
    data_path: Path = Arg(..., help="DocBin (.spacy) to check", exists=True, dir_okay=False),
    n_docs: int = Opt(5, "--n", "-n", min=0, help="Number of docs to check, from the start of the file (0 = all)"),
    model_name: Optional[str] = Opt(
        None, "--model-name", help="With a config: transformer weights (hub id or local dir) to use"
    ),
    batch_size: int = Opt(8, "--batch-size", "-b", min=1, help="Docs per transformer batch (padding shows up here)"),
    quiet: bool = Opt(False, "--quiet", "-q", help="Print only the summary and the problems"),
    gpu_id: int = Opt(-1, "--gpu-id", "-g", help="GPU id, or -1 for CPU"),
):
    """Print, for each doc, every wordpiece ([CLS], [SEP], [PAD] included):
    window, position, wordpiece, attention mask, the character token(s) it is
    aligned to and their gold tag as the CRF trains on it.

    Exits with status 1 if a special or padding wordpiece is aligned to a
    token, if a token has no wordpiece (hence a zero vector), or if the CRF's
    emission rows or gold tags and the doc lengths disagree. [UNK] pieces are counted as a warning.
    A config is initialized on the data (random CRF weights: the alignment
    does not depend on training).
    """
    use_gpu(gpu_id)
    if not count_docs(data_path):
        # before a config is initialized on it, which would fail on no data (E006)
        typer.echo(f"ERROR: {data_path} holds no docs (is it a .spacy file from `convert`?)", err=True)
        raise typer.Exit(code=2) from None
    corpus = read_examples(data_path, limit=n_docs)
    try:
        nlp = load_pipeline(model, corpus, model_name=model_name)
        find_pipes(nlp)
    except ValueError as err:
        typer.echo(f"ERROR: {err}", err=True)
        raise typer.Exit(code=2) from None
    examples = list(corpus(nlp))
    if not examples:
        typer.echo(f"ERROR: {data_path} holds no docs (is it a .spacy file from `convert`?)", err=True)
        raise typer.Exit(code=2) from None
    # docs are named by their index in DATA_PATH, empty ones (which the Corpus drops) counted
    report = check_alignment(nlp, examples, batch_size=batch_size, indices=corpus.indices)
    if not quiet:
        for item in report.docs:
            for line in format_doc(item):
                typer.echo(line)
            typer.echo("")
    for level, text in summary_lines(report, corpus.empty):
        typer.echo(f"{level.upper()}: {text}")
    if not report.ok:
        raise typer.Exit(code=1) from None
