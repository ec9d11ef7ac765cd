"""Timing: one pipeline per head, timed passes of training and inference,
the stages of crf_ner's inference, and the conversion speed."""
import random
import statistics
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence

import numpy
from spacy.tokens import DocBin
from spacy.util import fix_random_seed, load_model_from_config, minibatch
from thinc.api import Config, xp2torch

from spacy_cluener.converters import convert_file
from spacy_cluener.layers import length_mask
from spacy_cluener.layers.crf_batch import NUMPY_VITERBI_MAX_DOCS, crf_parameters
from spacy_cluener.layers.crf_tagger import pad
from spacy_cluener.layers.viterbi import viterbi as numpy_viterbi

from .data import MSRA_TRAIN, make_examples
from .likelihoods import train_with_reference

DROPOUT = 0.1  # the same for every head timed (cnn_crf.cfg trains with 0.2, trf_crf.cfg with 0.1)


class Head:
    """One pipeline (one head on its own encoder), initialized on the data."""

    def __init__(self, key: str, config: Config, doc_bin: DocBin, reference_likelihood: bool = False):
        """reference_likelihood (bool): for crf_ner, train with pytorch-crf's
        own likelihood (`likelihoods.train_with_reference`)."""
        fix_random_seed(0)
        self.key = key
        # Interpolated first: nlp.initialize resolves [training.optimizer] on
        # its own, where ${training.max_steps} would stay a string.
        self.nlp = load_model_from_config(config.interpolate(), auto_fill=True, validate=True)
        self.examples = make_examples(self.nlp, doc_bin, with_biluo_tags=key == "softmax")
        self.optimizer = self.nlp.initialize(lambda: self.examples)
        if reference_likelihood:
            train_with_reference(self.nlp.get_pipe("crf_ner").crf)

    def train(self, batches: Sequence[Sequence[int]]) -> None:
        for batch in batches:
            examples = [self.examples[i] for i in batch]
            self.nlp.update(examples, sgd=self.optimizer, drop=DROPOUT, losses={})

    def infer(self, texts: Sequence[str], batch_size: int) -> None:
        for _ in self.nlp.pipe(texts, batch_size=batch_size):
            pass


def timed(fn: Callable[[], None], sync: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def timed_cpu(fn: Callable[[], None], sync: Callable[[], None]) -> "tuple[float, float]":
    """Wall-clock and process CPU seconds. With one thread on a shared
    machine, CPU time is close to the wall time the run would take alone."""
    cpu = time.process_time()
    wall = timed(fn, sync)
    return wall, time.process_time() - cpu


def time_heads(
    heads: List[Head], texts: List[str], settings: dict, sync: Callable[[], None] = lambda: None
) -> Dict[str, Dict[str, List[float]]]:
    """Seconds per pass over all the docs, train and inference, each head:
    a short warm-up of each first, then the timed passes in a rotating order."""
    rng = random.Random(0)
    order = list(range(len(texts)))
    rng.shuffle(order)
    batches = list(minibatch(order, size=settings["train_batch_docs"]))
    pipe_batch = settings["pipe_batch_size"]
    times = {h.key: {"train": [], "inference": [], "train_cpu": [], "inference_cpu": []} for h in heads}
    for head in heads:
        head.train(batches[:3])
        head.infer(texts[:pipe_batch], pipe_batch)
    passes = {
        "train": lambda head: head.train(batches),
        "inference": lambda head: head.infer(texts, pipe_batch),
    }
    for rep in range(settings["repeats"]):
        rotated = heads[rep % len(heads):] + heads[: rep % len(heads)]
        for what, run in passes.items():
            for head in rotated:
                wall, cpu = timed_cpu(lambda run=run, head=head: run(head), sync)
                times[head.key][what].append(wall)
                times[head.key][f"{what}_cpu"].append(cpu)
    return times


def rate(chars: int, seconds: List[float]) -> float:
    return chars / statistics.median(seconds)


def crf_breakdown(
    head: Head, texts: List[str], batch_size: int, repeats: int, sync: Callable[[], None] = lambda: None
) -> dict:
    """Seconds spent in each stage of crf_ner inference (public API only), and
    Viterbi's share of the component's predict: `comp.predict` is timed whole,
    then, on the same batches, the Viterbi that predict runs alone on the padded
    emissions (numpy's on the CPU for up to NUMPY_VITERBI_MAX_DOCS docs, else
    `comp.crf.decode`). `sync` waits for the GPU, so that each stage is charged
    its own kernels."""
    nlp = head.nlp
    comp = nlp.get_pipe("crf_ner")
    upstream = [proc for name, proc in nlp.pipeline if name != "crf_ner"]
    stages = dict.fromkeys(["tokenize", "tok2vec", "predict", "set_annotations"], 0.0)
    viterbi = 0.0
    n_tags = len(comp.tag_names)
    device = next(comp.crf.parameters()).device

    def clocked(key: str, fn: Callable[[], object]) -> object:
        start = time.perf_counter()
        out = fn()
        sync()
        stages[key] += time.perf_counter() - start
        return out

    for _ in range(repeats):
        for batch in minibatch(texts, size=batch_size):
            docs = clocked("tokenize", lambda batch=batch: [nlp.make_doc(text) for text in batch])
            clocked("tok2vec", lambda docs=docs: [proc.set_annotations(docs, proc.predict(docs)) for proc in upstream])
            tag_ids = clocked("predict", lambda docs=docs: comp.predict(docs))
            clocked("set_annotations", lambda docs=docs, tag_ids=tag_ids: comp.set_annotations(docs, tag_ids))
            scores = [s for s in comp.model.predict(docs) if len(s)]
            lengths = [len(s) for s in scores]
            padded = pad(comp.model, scores, n_tags)
            if device.type == "cpu" and len(scores) <= NUMPY_VITERBI_MAX_DOCS:
                start = time.perf_counter()
                numpy_viterbi(padded, numpy.asarray(lengths), *crf_parameters(comp.crf))
                viterbi += time.perf_counter() - start
                continue
            emissions = xp2torch(padded, device=device)
            mask = length_mask(lengths, device)
            sync()
            start = time.perf_counter()
            comp.crf.decode(emissions, mask)
            sync()
            viterbi += time.perf_counter() - start
    total = sum(stages.values())
    return {
        "viterbi_share": viterbi / stages["predict"],
        "seconds": {**stages, "viterbi": viterbi},
        "share_of_inference": {k: v / total for k, v in stages.items()},
    }


def bench_convert(quick: bool, repeats: int, tmp_dir: Path) -> dict:
    """chars/s of `convert_file` on MSRA train (a slice in quick mode)."""
    path = MSRA_TRAIN
    if quick:
        lines = []
        with MSRA_TRAIN.open(encoding="utf8") as file_:
            for line in file_:
                lines.append(line)
                if len(lines) >= 20000 and not line.strip():
                    break
        path = tmp_dir / "msra-slice.txt"
        path.write_text("".join(lines), encoding="utf8")
    with path.open(encoding="utf8") as file_:
        chars = sum(1 for line in file_ if line.strip())
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        _, report = convert_file(path, "conll", "BIO")
        seconds.append(time.perf_counter() - start)
    return {"chars_per_s": rate(chars, seconds), "chars": chars, "docs": report.written,
            "file": str(MSRA_TRAIN), "slice": quick, "seconds": seconds}
