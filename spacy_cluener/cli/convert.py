"""`convert`: CLUENER JSON lines or token-per-line tags -> a spaCy DocBin."""
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..converters import convert_file, write_docbin
from ._app import Arg, Opt, app, refuse_same_file


class Format(str, Enum):
    cluener = "cluener"
    conll = "conll"
    labelstudio = "labelstudio"
    doccano = "doccano"


class InputScheme(str, Enum):
    BIO = "BIO"
    BIOES = "BIOES"
    BMES = "BMES"


@app.command("convert")
def convert_cli(
    input_path: Path = Arg(
        ..., help="CLUENER .json (JSON lines), token-per-line file, Label Studio JSON or doccano JSONL export",
        exists=True, dir_okay=False,
    ),
    output_path: Path = Arg(..., help="Output .spacy file"),
    fmt: Format = Opt(..., "--format", "-f", help="Input format"),
    scheme: InputScheme = Opt(InputScheme.BIO, "--scheme", "-s", help="Tag scheme of a conll file"),
    skip_invalid: bool = Opt(False, "--skip-invalid", help="Write the valid records even if some are rejected"),
    max_lines: Optional[int] = Opt(None, "--max-notes", min=0, help="Print at most this many rejection/note lines (0: none)"),
):
    """Convert a corpus to a DocBin, one token per character.

    Formats: cluener, conll (--scheme), labelstudio (a Label Studio JSON
    export; of several annotations of a task the latest that was not
    cancelled wins) and doccano (JSONL, `label` or `entities`): see
    docs/labelling.md.

    Prints `FILE:LINE: reason` for every rejected record and every change, then
    `read N, written M, rejected K`. Exits with status 1 when records were
    rejected, without writing, unless --skip-invalid; when every record is
    rejected (a file in another encoding or format), even with it. The output
    is written atomically (temp file + rename).
    """
    refuse_same_file(input_path, output_path)
    doc_bin, report = convert_file(input_path, fmt.value, scheme.value)
    lines = report.lines()
    for line in lines[:max_lines] if max_lines is not None else lines:
        typer.echo(line, err=True)
    if max_lines is not None and len(lines) > max_lines:
        typer.echo(f"... {len(lines) - max_lines} more lines", err=True)
    typer.echo(report.summary())
    if report.rejected and not skip_invalid:
        typer.echo(
            f"Nothing written: {len(report.rejected)} record(s) rejected. Fix them, or pass "
            "--skip-invalid to write the valid records.",
            err=True,
        )
        raise typer.Exit(code=1)
    report.check_not_all_rejected()
    write_docbin(doc_bin, output_path)
    typer.echo(f"Wrote {report.written} docs to {output_path}")
