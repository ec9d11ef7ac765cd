"""What each active-learning round had labelled, beyond the doc count: the
characters and gold entities of its training subset, per strategy, seed and
round, read from `active-learning`'s work directories (WORK/seedS/round0 and
WORK/seedS/STRATEGY/roundR, each with its train.spacy). An order that picks
longer, entity-denser texts asks more of an annotator per doc; the table in
docs/results.md shows it beside the F.

    python scripts/active_learning_labelled.py WORK OUTPUT.json
"""
import re
from pathlib import Path

import spacy
import typer
from spacy.tokens import DocBin

from bench.record import record
from spacy_cluener.cli import run_script

ROUND = re.compile(r"round(?P<round>\d+)")


def totals(path: Path, vocab) -> dict:
    docs = list(DocBin().from_disk(path).get_docs(vocab))
    return {"docs": len(docs), "chars": sum(len(d.text) for d in docs), "entities": sum(len(d.ents) for d in docs)}


def main(
    work: Path = typer.Argument(..., exists=True, file_okay=False, help="training/active_learning"),
    output: Path = typer.Argument(..., help="results/active_learning/labelled.json"),
) -> None:
    vocab = spacy.blank("zh").vocab
    found: dict = {}
    for seed_dir in sorted(work.glob("seed*")):
        seed = seed_dir.name.removeprefix("seed")
        round0 = seed_dir / "round0" / "train.spacy"
        if not round0.exists():
            continue
        first = totals(round0, vocab)
        for strategy_dir in sorted(p for p in seed_dir.iterdir() if p.is_dir() and p.name != "round0"):
            rows = [{"round": 0, **first}]
            for round_dir in sorted(strategy_dir.glob("round*"), key=lambda p: int(ROUND.match(p.name)["round"])):
                if (round_dir / "train.spacy").exists():
                    rows.append({"round": int(ROUND.match(round_dir.name)["round"]), **totals(round_dir / "train.spacy", vocab)})
            found.setdefault(strategy_dir.name, {})[seed] = rows
    if not found:
        raise SystemExit(f"active_learning_labelled: no seedS/round0/train.spacy under {work}")
    record({"labelled": found}, output, ["python", "scripts/active_learning_labelled.py", str(work), str(output)], 1)
    print(f"wrote {output}")


if __name__ == "__main__":
    run_script(main)
