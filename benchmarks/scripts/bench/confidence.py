"""The cost of crf_ner's entity confidence (forward-backward + span marginals).

    python scripts/bench/confidence.py MODEL DATA.spacy [--n-docs N] [--repeats R]

`crf_ner.predict` + `set_annotations` is timed with `scores` off and on, on
the same batches (the upstream components, e.g. the tok2vec, run once,
untimed), interleaved, median of `repeats`. The figure is
`confidence_cost_share`: the extra time with scores on over the predict time
with scores off. `scores` is on by default only if this is <= 0.25.
Process CPU time is used (one thread on a shared machine: close to what the
run would take alone); wall-clock figures are recorded next to it.
scripts/crf_cost.py calls `measure` on the crf_ner pipeline it trains.
"""
import json
import statistics
import time
from typing import Dict, List, Sequence

from spacy.language import Language
from spacy.util import minibatch

GOAL = 0.25
PIPELINE_GOAL = 0.05


def measure(nlp: Language, texts: Sequence[str], batch_size: int = 256, repeats: int = 5,
            component: str = "crf_ner") -> Dict:
    """Seconds per pass with scores off and on, and the cost share."""
    comp = nlp.get_pipe(component)
    upstream = [proc for name, proc in nlp.pipeline if name != component]
    batches = []
    for texts_batch in minibatch(list(texts), size=batch_size):
        docs = [nlp.make_doc(text) for text in texts_batch]
        for proc in upstream:
            proc.set_annotations(docs, proc.predict(docs))
        batches.append(docs)
    saved = comp.cfg.get("scores", False)
    times: Dict[str, List[float]] = {f"{what}_{on}": [] for what in ("predict", "set_annotations", "wall")
                                     for on in ("off", "on")}

    def one_pass(on: bool) -> None:
        comp.with_scores = on
        key = "on" if on else "off"
        predict = annotate = 0.0
        wall = time.perf_counter()
        for docs in batches:
            start = time.process_time()
            predictions = comp.predict(docs)
            middle = time.process_time()
            comp.set_annotations(docs, predictions)
            predict += middle - start
            annotate += time.process_time() - middle
        times[f"wall_{key}"].append(time.perf_counter() - wall)
        times[f"predict_{key}"].append(predict)
        times[f"set_annotations_{key}"].append(annotate)

    try:
        one_pass(False)  # warm-up
        one_pass(True)
        for rep in range(repeats):
            for on in ((False, True) if rep % 2 == 0 else (True, False)):
                one_pass(on)
    finally:
        comp.with_scores = saved
    med = {k: statistics.median(v[2:]) for k, v in times.items()}
    off = med["predict_off"] + med["set_annotations_off"]
    on = med["predict_on"] + med["set_annotations_on"]
    return {
        "confidence_cost_share": (on - off) / med["predict_off"],
        "confidence_cost_share_wall": (med["wall_on"] - med["wall_off"]) / med["predict_off"],
        "goal": GOAL,
        "met": (on - off) / med["predict_off"] <= GOAL,
        "median_cpu_seconds": med,
        "n_docs": len(texts),
        "batch_size": batch_size,
        "repeats": repeats,
    }


def measure_pipeline(nlp: Language, texts: Sequence[str], batch_size: int = 256, repeats: int = 3,
                     component: str = "crf_ner", setting: str = "with_scores") -> Dict:
    """Characters per CPU second of the whole pipeline with the component's
    `setting` (scores, or e.g. `expected_errors`) off and on, batched and
    one text at a time; passes interleaved, median of `repeats` after one
    warm-up pass of each; the cost is 1 - on / off."""
    comp = nlp.get_pipe(component)
    saved = getattr(comp, setting)
    n_chars = sum(len(text) for text in texts)
    runs = {"batched": lambda: list(nlp.pipe(texts, batch_size=batch_size)),
            "one_at_a_time": lambda: [nlp(text) for text in texts]}
    cpu: Dict[str, List[float]] = {f"{mode}_{on}": [] for mode in runs for on in ("off", "on")}
    try:
        for rep in range(repeats + 1):
            for mode, run in runs.items():
                for on in ((False, True) if rep % 2 == 0 else (True, False)):
                    setattr(comp, setting, on)
                    start = time.process_time()
                    run()
                    cpu[f"{mode}_{'on' if on else 'off'}"].append(time.process_time() - start)
    finally:
        setattr(comp, setting, saved)
    out: Dict = {"n_chars": n_chars, "goal": PIPELINE_GOAL, "repeats": repeats, "batch_size": batch_size}
    for mode in runs:
        off = n_chars / statistics.median(cpu[f"{mode}_off"][1:])
        on = n_chars / statistics.median(cpu[f"{mode}_on"][1:])
        out[mode] = {"chars_per_cpu_s_off": off, "chars_per_cpu_s_on": on, "cost": 1.0 - on / off,
                     "met": 1.0 - on / off <= PIPELINE_GOAL}
    return out


def main() -> None:
    import argparse
    import os

    import spacy
    import torch
    from spacy.tokens import DocBin

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("data")
    parser.add_argument("--n-docs", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    nlp = spacy.load(args.model)
    texts = [doc.text for doc in DocBin().from_disk(args.data).get_docs(nlp.vocab)]
    if args.n_docs:
        texts = texts[: args.n_docs]
    result = measure(nlp, texts, args.batch_size, args.repeats)
    result.update(model=args.model, data=args.data, torch_threads=torch.get_num_threads(),
                  OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS"), loadavg=list(os.getloadavg()))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
