import typer

app = typer.Typer(
    name="spacy_cluener",
    help="Chinese NER for spaCy: convert corpora, debug, report, predict.",
    no_args_is_help=True,
    add_completion=False,
)
Arg = typer.Argument
Opt = typer.Option


@app.callback()
def main() -> None:
    """Keep `convert` etc. as subcommands even while only one is registered."""
