"""Does uncertainty first pay? An active-learning simulation on CLUENER train.

    python scripts/active_learning.py CONFIG OUTPUT.json --strategy uncertainty|sequence|errors|random
        [--seed 0] [--start 500] [--add 500] [--rounds 4] [--max-steps 1200] [--threads 1]

Round 0 labels `--start` docs drawn at random (seeded) from the train corpus
and trains CONFIG from scratch on them; each of `--rounds` rounds then adds
`--add` docs from the rest of train and trains again from scratch, with the
same seed and the same number of steps, and scores CLUENER dev. `random`
takes the next docs of the same seeded shuffle; `uncertainty` asks the
previous round's model for the texts `predict --top N` would give an
annotator: the lowest entity score first (`uncertainty_score`, with the
calibration the model carries; a text without entities counts as sure);
`sequence` takes the texts whose whole predicted tagging is least probable
(`bench.active_learning.path_probabilities`), which also counts the
entities the model may have missed; `errors` takes the texts with the most
tags the CRF expects to be wrong (crf_ner's `expected_errors`, from the
marginals: what `predict --top` orders by), which keeps ranking long texts that `sequence` sees
all as near-certainly wrong.
Round 0 is the same for both strategies and is trained once (kept in
WORK/seedS/round0). The result JSON has one row per round: labelled docs and dev
precision, recall and F; `collate` turns both strategies into a table and a
chart in docs/results.md.
"""
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import numpy
import spacy
import typer
from spacy.tokens import DocBin

from bench.active_learning import path_probabilities
from bench.record import REPO, record
from spacy_cluener.annotation.outputs import doc_entities
from spacy_cluener.cli import run_script
from spacy_cluener.converters.labelling import uncertainty_score
from spacy_cluener.evaluation.confidence import enable_expected_errors, enable_scores, scores_key

STRATEGIES = ("uncertainty", "sequence", "errors", "random")


def train_round(config: str, train: Path, dev: str, out_dir: Path, seed: int, max_steps: int,
                threads: int) -> dict:
    """Train from scratch on `train` (scripts/train.py) and score dev; an
    existing OUT_DIR/metrics.json (a finished round) is read, not redone."""
    metrics = out_dir / "metrics.json"
    if metrics.exists():
        return json.loads(metrics.read_text(encoding="utf8"))
    model = out_dir / "model"
    cmd = [sys.executable, "scripts/train.py", config, str(model), "--threads", str(threads),
           "--training.max_steps", str(max_steps), "--training.eval_frequency", str(max_steps),
           "--paths.train", str(train), "--paths.dev", dev, "--system.seed", str(seed)]
    print("$ " + " ".join(cmd), flush=True)
    start = time.time()
    subprocess.run(cmd, cwd=REPO, check=True)
    seconds = time.time() - start
    tmp = out_dir / "metrics.json.partial"
    subprocess.run([sys.executable, "-m", "spacy", "evaluate", str(model / "model-last"), dev, "--output", str(tmp)],
                   cwd=REPO, check=True)
    scores = json.loads(tmp.read_text(encoding="utf8"))
    scores["train_seconds"] = round(seconds, 1)
    metrics.write_text(json.dumps(scores, indent=2) + "\n", encoding="utf8")
    tmp.unlink()
    return scores


def most_uncertain(model: Path, docs: List, pool: List[int], n: int, strategy: str = "uncertainty",
                   batch_size: int = 256) -> List[int]:
    """The `n` pool indices the least sure first (ties in pool order): by
    the lowest entity score, as `predict --top n` orders them, or with
    `strategy="sequence"` by the probability of the whole predicted tagging,
    or with `strategy="errors"` by the most tags expected wrong."""
    nlp = spacy.load(model)
    texts = [docs[i].text for i in pool]
    if strategy == "sequence":
        ranked = [(p, j) for j, p in enumerate(path_probabilities(nlp, texts, batch_size))]
    elif strategy == "errors":
        enable_expected_errors(nlp)
        key = nlp.get_pipe("crf_ner").spans_key
        ranked = [(-doc.spans[key].attrs["expected_errors"], j)
                  for j, doc in enumerate(nlp.pipe(texts, batch_size=batch_size))]
    else:
        enable_scores(nlp)
        key = scores_key(nlp)
        ranked = [(uncertainty_score(doc_entities(doc, key)), j)
                  for j, doc in enumerate(nlp.pipe(texts, batch_size=batch_size))]
    ranked.sort()
    return [pool[j] for _, j in ranked[:n]]


def main(
    config: str = typer.Argument(..., help="config, relative to the repository root"),
    output: Path = typer.Argument(..., help="result JSON"),
    strategy: str = typer.Option(..., "--strategy", help="uncertainty, sequence, errors or random"),
    seed: int = typer.Option(0, "--seed"),
    start: int = typer.Option(500, "--start", help="docs labelled in round 0"),
    add: int = typer.Option(500, "--add", help="docs added per round"),
    rounds: int = typer.Option(4, "--rounds"),
    max_steps: int = typer.Option(1200, "--max-steps", help="training steps of every round"),
    threads: int = typer.Option(1, "--threads"),
    train: str = typer.Option("corpus/cluener-train.spacy", "--train", help="relative to the repository root"),
    dev: str = typer.Option("corpus/cluener-dev.spacy", "--dev", help="relative to the repository root"),
    work: str = typer.Option("training/active_learning", "--work", help="models and subsets, relative to the root"),
) -> None:
    if strategy not in STRATEGIES:
        raise typer.BadParameter(f"--strategy must be one of {', '.join(STRATEGIES)}, not '{strategy}'")
    output = output.resolve()
    work_dir = REPO / work / f"seed{seed}"
    nlp = spacy.blank("zh")
    docs = list(DocBin().from_disk(REPO / train).get_docs(nlp.vocab))
    order = numpy.random.RandomState(seed).permutation(len(docs)).tolist()
    labelled = order[:start]
    rows = []
    for r in range(rounds + 1):
        out_dir = work_dir / ("round0" if r == 0 else f"{strategy}/round{r}")
        out_dir.mkdir(parents=True, exist_ok=True)
        subset = out_dir / "train.spacy"
        DocBin(docs=[docs[i] for i in labelled], store_user_data=True).to_disk(subset)
        scores = train_round(config, subset, dev, out_dir, seed, max_steps, threads)
        rows.append({"round": r, "labelled": len(labelled), "ents_p": scores["ents_p"], "ents_r": scores["ents_r"],
                     "ents_f": scores["ents_f"], "train_seconds": scores.get("train_seconds")})
        print(f"{strategy} round {r}: {len(labelled)} docs, dev F {100 * scores['ents_f']:.2f}", flush=True)
        if r == rounds:
            break
        taken = set(labelled)
        if strategy == "random":
            pool = [i for i in order if i not in taken]
            labelled = labelled + pool[:add]
        else:
            pool = [i for i in range(len(docs)) if i not in taken]
            labelled = labelled + most_uncertain(out_dir / "model" / "model-last", docs, pool, add, strategy)
    command = [f"python scripts/active_learning.py {config} OUTPUT.json --strategy {strategy} --seed {seed} "
               f"--start {start} --add {add} --rounds {rounds} --max-steps {max_steps} --threads {threads}"]
    record({"rounds": rows}, output, command, threads,
           {"config": Path(config).stem, "strategy": strategy, "seed": seed, "train": train, "dev": dev})
    print(f"Wrote {output}")


if __name__ == "__main__":
    run_script(main)
