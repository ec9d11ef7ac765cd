"""The typer app the commands register on, and what they share."""
import os
from pathlib import Path
from typing import Callable

import spacy
import typer
from spacy.language import Language

# rich_markup_mode=None: click's plain error output. typer's rich panel wraps a
# message over several boxed lines at the terminal's width; an error must stay
# one full line, greppable in logs, whatever the width.
app = typer.Typer(
    name="spacy_cluener",
    help="Chinese NER for spaCy: convert corpora, debug, report, predict, annotate.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
Arg = typer.Argument
Opt = typer.Option


def use_gpu(gpu_id: int) -> None:
    """`spacy.require_gpu` for `--gpu-id`; a missing CuPy or GPU is one line
    on stderr and exit status 1 (install with `pip install ".[cuda12x]"`)."""
    if gpu_id < 0:
        return
    try:
        spacy.require_gpu(gpu_id)
    except (ValueError, ImportError) as err:
        typer.echo(f"Cannot use GPU {gpu_id}: {err}", err=True)
        raise typer.Exit(code=1) from None


def load_pipeline(model: str, gpu_id: int = -1) -> Language:
    """spacy.load for the commands, on `gpu_id` if >= 0: a pipeline that
    cannot be found or read (spaCy's E050/E053 OSError) is one line on stderr
    and exit status 1."""
    use_gpu(gpu_id)
    try:
        return spacy.load(model)
    except OSError as err:
        typer.echo(f"Cannot load the pipeline '{model}': {err}", err=True)
        raise typer.Exit(code=1) from None


def refuse_same_file(input_path: Path, output_path: Path) -> None:
    """Exit 1 when the output would overwrite the input (also through a
    symlink or another spelling of the same path): nothing may destroy its input."""
    if output_path.exists() and os.path.samefile(input_path, output_path):
        typer.echo(f"{output_path} is the input file {input_path}: choose another output path.", err=True)
        raise typer.Exit(code=1) from None


def run_script(function: Callable) -> None:
    """`typer.run` for the scripts of the project workflows, with the app's
    plain one-line errors."""
    script = typer.Typer(add_completion=False, rich_markup_mode=None)
    script.command()(function)
    script()


@app.callback()
def main() -> None:
    """Keep `convert` etc. as subcommands even while only one is registered."""
