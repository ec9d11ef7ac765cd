import spacy
import typer
from spacy.language import Language

app = typer.Typer(
    name="spacy_cluener",
    help="Chinese NER for spaCy: convert corpora, debug, report, predict.",
    no_args_is_help=True,
    add_completion=False,
)
Arg = typer.Argument
Opt = typer.Option


def load_pipeline(model: str) -> Language:
    """spacy.load for the commands: a pipeline that cannot be found or read
    (spaCy's E050/E053 OSError) is one line on stderr and exit status 1."""
    try:
        return spacy.load(model)
    except OSError as err:
        typer.echo(f"Cannot load the pipeline '{model}': {err}", err=True)
        raise typer.Exit(code=1)


@app.callback()
def main() -> None:
    """Keep `convert` etc. as subcommands even while only one is registered."""
