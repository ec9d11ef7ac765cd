"""`predict`: a CLUENER JSON-lines file -> a CLUENER leaderboard submission."""
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..evaluation.confidence import enable_expected_errors, enable_scores, scores_key
from ..prediction import MalformedRecord, predict_file
from ._app import Arg, Opt, app, load_pipeline, refuse_same_file


class InputFormat(str, Enum):
    cluener = "cluener"


class OutputFormat(str, Enum):
    cluener = "cluener"
    label_studio = "label-studio"
    doccano = "doccano"


@app.command("predict")
def predict_cli(
    model: str = Arg(..., help="Pipeline name or path"),
    input_path: Path = Arg(..., help="CLUENER JSON-lines file (e.g. test.json), or a pipe such as /dev/stdin", exists=True, dir_okay=False),
    output_path: Path = Arg(..., help="Submission file to write (JSON lines)"),
    fmt: InputFormat = Opt(InputFormat.cluener, "--format", "-f", help="Input format (JSON lines with text and id)"),
    to: OutputFormat = Opt(
        OutputFormat.cluener, "--to", help="Output: CLUENER lines, Label Studio tasks with predictions, doccano JSONL"
    ),
    uncertainty_first: bool = Opt(
        False, "--uncertainty-first",
        help="Order the output by how many tags of each text the CRF expects to be wrong, most first",
    ),
    top: Optional[int] = Opt(None, "--top", min=1, help="Only the N most uncertain texts (implies --uncertainty-first)"),
    batch_size: int = Opt(256, "--batch-size", "-b", min=1, help="Texts per nlp.pipe batch"),
    gpu_id: int = Opt(-1, "--gpu-id", "-g", help="GPU id, or -1 for CPU"),
    scores: bool = Opt(False, "--scores", help='Add each entity\'s score: "scores": {TYPE: {ENTITY: [score]}}'),
    max_length: Optional[int] = Opt(
        None, "--max-length", min=1,
        help="Raise nlp.max_length (characters per text; 1,000,000 by default) to predict longer texts",
    ),
):
    """Predict entities for every record and write a leaderboard submission:
    one line per record, in input order, `{"id": ..., "label": {TYPE: {ENTITY:
    [[start, end]]}}}` (end inclusive). A malformed input line is reported as
    FILE:LINE (exit status 1) and leaves no partial submission behind; so is
    a text longer than nlp.max_length (raise it with --max-length).
    --scores turns crf_ner's entity scores on and adds them, parallel to the
    offsets; without it the file is the leaderboard format, unchanged, and
    the scores are not computed (whatever the pipeline's setting).
    --to label-studio writes Label Studio's import format (a JSON list of
    tasks, the entities as a prediction with per-entity and per-task scores),
    --to doccano doccano's JSONL (`label` spans, `scores` beside them); both
    turn the scores on. --uncertainty-first / --top N put the texts the model
    is least sure of first: the most tags it expects to be wrong, from the
    CRF's marginals (docs/labelling.md).
    """
    refuse_same_file(input_path, output_path)
    nlp = load_pipeline(model, gpu_id)
    if max_length is not None:
        nlp.max_length = max_length
    key = None
    wanted = scores or to != OutputFormat.cluener or uncertainty_first or top is not None
    # off when the output has no scores: no forward-backward (a threshold above 0 still computes them)
    enable_scores(nlp, wanted)
    enable_expected_errors(nlp, uncertainty_first or top is not None)
    if wanted:
        key = scores_key(nlp)
        if key is None:
            typer.echo(f"--scores, --to, --uncertainty-first, --top: no component of '{model}' writes entity scores "
                       "(crf_ner does, into doc.spans[spans_key]: a crf_ner with spans_key = null writes none).",
                       err=True)
            raise typer.Exit(code=1)
    try:
        written, n_ents = predict_file(
            nlp, input_path, output_path, batch_size=batch_size, scores_key=key, to=to.value,
            uncertainty_first=uncertainty_first, top=top,
        )
    except MalformedRecord as err:
        typer.echo(f"{err}. Nothing written.", err=True)
        raise typer.Exit(code=1) from None
    except OSError as err:  # an unwritable directory, a full disk: the real error, one line
        typer.echo(f"Cannot write the submission {output_path}: {err}. Nothing written.", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"Wrote {written} records ({n_ents} entities) to {output_path}")
