"""A partially annotated copy of a corpus: in each doc, one random contiguous
window of `fraction` of its tokens gets a missing entity tag (spaCy's "-",
ent_iob 0); an entity that overlaps the window is missing whole (its tokens
outside the window are not "O": that would be a wrong tag), the others are
kept, and the other tokens stay annotated "O". Seeded, so the corpus is the same on
every run.

    python benchmarks/scripts/make_partial.py corpus/cluener-train.spacy corpus/cluener-train-partial30.spacy --fraction 0.3 --seed 0
"""
import json
import math
import random
from pathlib import Path

import spacy
import typer
from spacy.tokens import DocBin

from spacy_cluener.cli import run_script


def main(
    src: Path = typer.Argument(..., exists=True, dir_okay=False),
    dest: Path = typer.Argument(...),
    fraction: float = typer.Option(0.3, "--fraction"),
    seed: int = typer.Option(0, "--seed"),
    lang: str = typer.Option("zh", "--lang"),
) -> None:
    nlp = spacy.blank(lang)
    rng = random.Random(seed)
    out = DocBin(store_user_data=False)
    n_tokens = n_missing = n_ents = n_dropped = 0
    for doc in DocBin().from_disk(src).get_docs(nlp.vocab):
        width = math.ceil(fraction * len(doc)) if len(doc) else 0
        start = rng.randint(0, len(doc) - width) if len(doc) else 0
        keep = [e for e in doc.ents if e.end <= start or e.start >= start + width]
        cut = [e for e in doc.ents if not (e.end <= start or e.start >= start + width)]
        lo = min([start] + [e.start for e in cut])
        hi = max([start + width] + [e.end for e in cut])
        missing = [doc[lo:hi]] if width else []
        n_tokens += len(doc)
        n_missing += hi - lo if width else 0
        n_ents += len(doc.ents)
        n_dropped += len(cut)
        doc.set_ents(keep, missing=missing, default="outside")
        out.add(doc)
    out.to_disk(dest)
    print(json.dumps({"docs": len(out), "tokens": n_tokens, "missing_tokens": n_missing,
                      "entities": n_ents, "entities_dropped": n_dropped, "seed": seed, "fraction": fraction}))


if __name__ == "__main__":
    run_script(main)
