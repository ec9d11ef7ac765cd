"""The typer app the commands register on, and what they share."""
import functools
import os
import re
from pathlib import Path
from typing import Callable

import spacy
import typer
from spacy.language import Language
from spacy.tokens import DocBin

# Set to 1 to get the traceback of an error the commands print as one line.
TRACEBACK_ENV = "SPACY_CLUENER_TRACEBACK"
_ERROR_CODE = re.compile(r"\[E\d+\]")


def one_line_errors(function: Callable) -> Callable:
    """Run a command so that an error of its inputs or its machine (an OSError:
    missing or damaged files, disk full, read-only filesystem; a ValueError
    with a spaCy-style code such as [E1014] or [E042]) is one line on stderr
    and exit status 1, not a traceback. Other exceptions are bugs and keep
    their traceback, as do these with SPACY_CLUENER_TRACEBACK=1."""

    @functools.wraps(function)
    def command(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (OSError, ValueError) as err:
            if os.environ.get(TRACEBACK_ENV) or not (isinstance(err, OSError) or _ERROR_CODE.search(str(err))):
                raise
            typer.echo(one_line(err), err=True)
            raise typer.Exit(code=1) from None

    return command


def one_line(err: BaseException) -> str:
    """The message of `err` on one line (spaCy's and config errors span several)."""
    text = " ".join(str(err).split())
    return text or type(err).__name__


class _App(typer.Typer):
    """A typer app whose commands print input errors as one line (`one_line_errors`)."""

    def command(self, *args, **kwargs):
        register = super().command(*args, **kwargs)

        def decorator(function: Callable) -> Callable:
            register(one_line_errors(function))
            return function

        return decorator


# rich_markup_mode=None: click's plain error output. typer's rich panel wraps a
# message over several boxed lines at the terminal's width; an error must stay
# one full line, greppable in logs, whatever the width.
app = _App(
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
        if os.environ.get(TRACEBACK_ENV):
            raise
        typer.echo(f"Cannot use GPU {gpu_id}: {err}", err=True)
        raise typer.Exit(code=1) from None


def load_pipeline(model: str, gpu_id: int = -1) -> Language:
    """spacy.load for the commands, on `gpu_id` if >= 0: a pipeline that
    cannot be found or read (spaCy's E050/E053 OSError) is one line on stderr
    and exit status 1 (with SPACY_CLUENER_TRACEBACK=1, the traceback)."""
    use_gpu(gpu_id)
    try:
        return spacy.load(model)
    except OSError as err:
        if os.environ.get(TRACEBACK_ENV):
            raise
        typer.echo(f"Cannot load the pipeline '{model}': {err}", err=True)
        raise typer.Exit(code=1) from None


def read_docbin(path: Path) -> DocBin:
    """DocBin.from_disk, with the path in spaCy's E1014 (a `.json` given for a `.spacy`)."""
    try:
        return DocBin().from_disk(path)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def refuse_same_file(input_path: Path, output_path: Path) -> None:
    """Exit 1 when the output would overwrite the input (also through a
    symlink or another spelling of the same path): nothing may destroy its input."""
    if output_path.exists() and os.path.samefile(input_path, output_path):
        typer.echo(f"{output_path} is the input file {input_path}: choose another output path.", err=True)
        raise typer.Exit(code=1) from None


def run_script(function: Callable, **command_settings) -> None:
    """`typer.run` for the scripts of the project workflows, with the app's
    plain one-line errors. command_settings: for typer's `command()`."""
    script = _App(add_completion=False, rich_markup_mode=None)
    script.command(**command_settings)(function)
    script()


@app.callback()
def main() -> None:
    """Keep `convert` etc. as subcommands even while only one is registered."""
