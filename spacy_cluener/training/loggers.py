"""`spacy_cluener.JsonlLogger.v1`: the training log as JSON lines, one per
evaluation, flushed as it is written.

spaCy's `ConsoleLogger.v3` writes the same rows to its `output_file` through a
buffered stream that is only flushed when training ends: a run that is killed
(out of memory, SIGKILL, a job scheduler's limit) leaves an empty log, and a
running one cannot be watched. This logger writes the rows `ConsoleLogger.v3`
writes (`epoch`, `step`, `losses` per trainable pipe, `scores` x100 except
`speed`, `score`), each complete line flushed at once.
"""
import sys
from pathlib import Path
from typing import IO, Any, Callable, Dict, Optional, Tuple, Union

import srsly
from spacy.language import Language
from spacy.util import registry


@registry.loggers("spacy_cluener.JsonlLogger.v1")
def make_jsonl_logger(output_file: Union[str, Path]):
    output_file = Path(output_file)

    def setup(
        nlp: Language, stdout: IO = sys.stdout, stderr: IO = sys.stderr
    ) -> Tuple[Callable[[Optional[Dict[str, Any]]], None], Callable[[], None]]:
        output_file.parent.mkdir(parents=True, exist_ok=True)
        stream = open(output_file, "w", encoding="utf-8")
        pipes = [name for name, proc in nlp.pipeline if getattr(proc, "is_trainable", False)]
        weights = nlp.config["training"]["score_weights"]
        columns = [col for col, value in weights.items() if value is not None]

        def log_step(info: Optional[Dict[str, Any]]) -> None:
            if info is None:
                return
            scores = {}
            for col in columns:
                score = float(info["other_scores"].get(col, 0.0))
                scores[str(col)] = score if col == "speed" else score * 100
            row = {
                "epoch": info["epoch"],
                "step": info["step"],
                "losses": {name: float(info["losses"][name]) for name in pipes},
                "scores": scores,
                "score": float(info["score"]),
            }
            stream.write(srsly.json_dumps(row) + "\n")
            stream.flush()

        return log_step, stream.close

    return setup
