"""Write the text of DocBin corpora as JSON lines for `spacy pretrain`.

    python scripts/raw_text.py OUTPUT.jsonl CORPUS.spacy [CORPUS.spacy ...]

`spacy pretrain` reads `{"text": ...}` lines (`spacy.JsonlCorpus.v1`). Taking
the text from the converted corpora, not from the raw files, means it went
through the same checks and the same character tokenizer as training. Only
use training corpora: text from dev or test would leak into the encoder.
"""
import json
from pathlib import Path
from typing import List

import spacy
import typer
from spacy.tokens import DocBin

from spacy_cluener.cli import run_script


def main(
    output: Path = typer.Argument(..., dir_okay=False, help="JSON lines file to write"),
    corpora: List[Path] = typer.Argument(..., exists=True, dir_okay=False, help="DocBin files"),
):
    vocab = spacy.blank("zh").vocab
    written = 0
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf8") as file_:
        for path in corpora:
            read = empty = 0
            for doc in DocBin().from_disk(path).get_docs(vocab):
                read += 1
                if not doc.text.strip():
                    empty += 1
                    continue
                file_.write(json.dumps({"text": doc.text}, ensure_ascii=False) + "\n")
                written += 1
            print(f"{path}: read {read} docs, wrote {read - empty}, skipped {empty} with no text")
    print(f"Wrote {written} lines to {output}")


if __name__ == "__main__":
    run_script(main)
