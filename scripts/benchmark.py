"""Speed of `crf_ner` next to spaCy's `ner` and a softmax tagger head (issue 6).

    python scripts/benchmark.py --output FILE.json [--quick] [--gpu] [--n-docs N] [--repeats R]

One process, the same data (CLUENER dev texts) and the same encoder (the
tok2vec of configs/cnn_crf.cfg) under three heads:

- `crf_ner`: emissions + constrained CRF (this package);
- `ner`: spaCy's `ner` with its default TransitionBasedParser, same labels;
- `softmax`: spaCy's `tagger` trained on the BILUO entity tags (emissions +
  argmax, no CRF; it sets token tags, not `doc.ents`).

Training is `nlp.update` over fixed batches after `nlp.initialize` on the
data; inference is `nlp.pipe` over the texts. An untimed warm-up (a few
batches), then `repeats` timed passes over all the docs, interleaved across
the heads so that load from other processes falls on all of them alike; the
median is reported. Also measured:
the share of `crf_ner`'s predict time spent in Viterbi, and the conversion
speed of MSRA train. `--gpu` adds the same comparison on a transformer
(BERT-base sized, random weights, real vocab) and a plain transformers +
pytorch-crf training loop, with peak GPU memory.

Set OMP_NUM_THREADS / MKL_NUM_THREADS to fix the CPU thread count; the JSON
records it together with the machine and the load average. Speeds are also
given from process CPU time (`cpu_time_chars_per_s`, `goals_cpu_time`): with
one thread on a shared machine they are close to what the run would take
alone, where wall-clock speeds depend on the other processes.
"""
import copy
import gc
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import spacy
import thinc
import torch
import typer
from spacy.language import Language
from spacy.pipeline import ner as spacy_ner
from spacy.pipeline import tagger as spacy_tagger
from spacy.tokens import DocBin
from spacy.training import Example, offsets_to_biluo_tags
from spacy.util import fix_random_seed, load_model_from_config, minibatch
from thinc.api import Config

from spacy_cluener.converters import convert_file

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SPACY_CLUENER_SHARED", REPO.parent / "shared"))
CLUENER_DEV = SHARED / "data" / "cluener2020" / "dev.json"
MSRA_TRAIN = SHARED / "data" / "msra" / "train.txt"
BERT_VOCAB = SHARED / "models" / "chinese-bert-vocab" / "vocab.txt"
CNN_CONFIG = REPO / "configs" / "cnn_crf.cfg"
TRF_CONFIG = REPO / "configs" / "trf_crf.cfg"
HEADS = ("crf_ner", "ner", "softmax")
DROPOUT = 0.1  # the same for every head timed (cnn_crf.cfg now trains with 0.2, trf_crf.cfg with 0.1)

# spaCy's own default models for the two reference heads; their tok2vec is
# replaced by the listener that crf_ner uses.
NER_MODEL = Config().from_str(spacy_ner.default_model_config)["model"]
TAGGER_MODEL = Config().from_str(spacy_tagger.default_model_config)["model"]

# --------------------------------------------------------------------- data


def read_dev_docs(n_docs: int) -> DocBin:
    """The first n_docs CLUENER dev records (0: all), made by our converter."""
    doc_bin, _ = convert_file(CLUENER_DEV, "cluener")
    if n_docs and n_docs < len(doc_bin):
        docs = list(doc_bin.get_docs(spacy.blank("zh").vocab))[:n_docs]
        doc_bin = DocBin(docs=docs, attrs=["ORTH", "ENT_IOB", "ENT_TYPE"])
    return doc_bin


def make_examples(nlp: Language, doc_bin: DocBin, with_biluo_tags: bool) -> List[Example]:
    """Examples in nlp's vocab; for the softmax head the BILUO entity tags
    are also the reference's token tags."""
    examples = []
    for ref in doc_bin.get_docs(nlp.vocab):
        if with_biluo_tags:
            spans = [(e.start_char, e.end_char, e.label_) for e in ref.ents]
            for token, tag in zip(ref, offsets_to_biluo_tags(ref, spans)):
                token.tag_ = tag
        examples.append(Example(nlp.make_doc(ref.text), ref))
    return examples


# ------------------------------------------------------------------ configs


def find_listener(block: dict) -> dict:
    """The (innermost) listener block under a head's model."""
    while "Listener" not in block.get("@architectures", ""):
        if "tok2vec" not in block:
            raise ValueError("benchmark: no listener found under the crf_ner model")
        block = block["tok2vec"]
    return block


def head_variants(base: Config) -> Dict[str, Config]:
    """base (with a `crf_ner` on a listener) and the same pipeline with
    spaCy's `ner` or `tagger` in its place, on the same listener."""
    listener = find_listener(base["components"]["crf_ner"]["model"])
    blocks = {
        "crf_ner": ("crf_ner", base["components"]["crf_ner"]),
        "ner": ("ner", {"factory": "ner", "model": {**NER_MODEL, "tok2vec": listener}}),
        "softmax": ("tagger", {"factory": "tagger", "model": {**TAGGER_MODEL, "tok2vec": listener}}),
    }
    out = {}
    for key, (name, block) in blocks.items():
        config = base.copy()
        config["nlp"]["pipeline"] = [p for p in base["nlp"]["pipeline"] if p != "crf_ner"] + [name]
        del config["components"]["crf_ner"]
        config["components"][name] = copy.deepcopy(block)
        # The heads are timed, not scored: keep spaCy's defaults for weights.
        config["training"].pop("score_weights", None)
        out[key] = config
    return out


def cnn_config(settings: dict) -> Config:
    """configs/cnn_crf.cfg with the encoder sizes of `settings`."""
    config = Config().from_disk(CNN_CONFIG, interpolate=False)
    model = config["components"]["tok2vec"]["model"]
    model["encode"]["width"], model["encode"]["depth"] = settings["width"], settings["depth"]
    model["embed"]["char_rows"] = settings["char_rows"]
    model["embed"]["bigram_rows"] = settings["bigram_rows"]
    return config


# ------------------------------------------------------------------- timing


class Head:
    """One pipeline (one head on its own encoder), initialized on the data."""

    def __init__(self, key: str, config: Config, doc_bin: DocBin):
        fix_random_seed(0)
        self.key = key
        # Interpolated first: nlp.initialize resolves [training.optimizer] on
        # its own, where ${training.max_steps} would stay a string.
        self.nlp = load_model_from_config(config.interpolate(), auto_fill=True, validate=True)
        self.examples = make_examples(self.nlp, doc_bin, with_biluo_tags=key == "softmax")
        self.optimizer = self.nlp.initialize(lambda: self.examples)

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
                wall, cpu = timed_cpu(lambda: run(head), sync)
                times[head.key][what].append(wall)
                times[head.key][f"{what}_cpu"].append(cpu)
    return times


def rate(chars: int, seconds: List[float]) -> float:
    return chars / statistics.median(seconds)


def crf_breakdown(
    head: Head, texts: List[str], batch_size: int, repeats: int, sync: Callable[[], None] = lambda: None
) -> dict:
    """Seconds spent in each stage of crf_ner inference, and Viterbi's share
    of the component's predict (model.predict + _decode). `sync` waits for
    the GPU, so that each stage is charged its own kernels."""
    nlp = head.nlp
    comp = nlp.get_pipe("crf_ner")
    upstream = [proc for name, proc in nlp.pipeline if name != "crf_ner"]
    stages = dict.fromkeys(
        ["tokenize", "tok2vec", "model_predict", "decode", "viterbi", "set_annotations"], 0.0
    )
    crf = comp.crf
    decode = crf.decode

    def timed_decode(*args, **kwargs):
        start = time.perf_counter()
        result = decode(*args, **kwargs)
        sync()
        stages["viterbi"] += time.perf_counter() - start
        return result

    crf.decode = timed_decode
    try:
        for _ in range(repeats):
            for batch in minibatch(texts, size=batch_size):
                clock = time.perf_counter()
                docs = [nlp.make_doc(text) for text in batch]
                stages["tokenize"] += time.perf_counter() - clock
                clock = time.perf_counter()
                for proc in upstream:
                    proc.set_annotations(docs, proc.predict(docs))
                sync()
                stages["tok2vec"] += time.perf_counter() - clock
                clock = time.perf_counter()
                scores = comp.model.predict(docs)
                sync()
                stages["model_predict"] += time.perf_counter() - clock
                clock = time.perf_counter()
                tag_ids = comp._decode(scores)
                sync()
                stages["decode"] += time.perf_counter() - clock
                clock = time.perf_counter()
                comp.set_annotations(docs, tag_ids)
                sync()
                stages["set_annotations"] += time.perf_counter() - clock
    finally:
        del crf.decode
    predict = stages["model_predict"] + stages["decode"]
    total = sum(v for k, v in stages.items() if k != "viterbi")
    return {
        "viterbi_share": stages["viterbi"] / predict,
        "seconds": stages,
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


# ---------------------------------------------------------------------- GPU


def check_gpu() -> None:
    """Fail before any work if --gpu cannot run here."""
    if not torch.cuda.is_available():
        raise SystemExit(
            "benchmark --gpu: torch sees no CUDA device (torch.cuda.is_available() is False). "
            "Run without --gpu, or on a machine with an NVIDIA GPU and a CUDA build of torch."
        )
    try:
        import cupy  # noqa: F401
        import spacy_transformers  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as err:
        raise SystemExit(f"benchmark --gpu: {err}. Install cupy for this CUDA (e.g. cupy-cuda12x), "
                         "spacy-transformers and transformers.")
    if not BERT_VOCAB.exists():
        raise SystemExit(f"benchmark --gpu: Chinese BERT vocab not found at {BERT_VOCAB}")


def make_random_bert(path: Path) -> Path:
    """BERT-base sizes, random weights, the real Chinese vocab: nothing downloaded."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=21128)).save_pretrained(path)
    BertTokenizerFast(vocab_file=str(BERT_VOCAB)).save_pretrained(path)
    return path


def trf_config(bert_dir: Path) -> Config:
    import spacy_cluener.layers.bilstm  # noqa: F401  (BiLSTMOnTok2Vec.v1)
    import spacy_cluener.training  # noqa: F401  (HeadAdam.v1, init_frozen_transformer.v1)

    config = Config().from_disk(TRF_CONFIG, interpolate=False)
    config["components"]["transformer"]["model"]["name"] = str(bert_dir)
    return config


def hf_loop(bert_dir: Path, doc_bin: DocBin, settings: dict, device: str = "cuda") -> dict:
    """Reference: transformers' BertModel + Linear + pytorch-crf, AdamW, on
    the same batches and the same BIOES gold tags as crf_ner."""
    from torch import nn
    from torchcrf import CRF
    from transformers import BertModel, BertTokenizerFast

    from spacy_cluener.tag_schemes import biluo_to_scheme, tag_names

    docs = list(doc_bin.get_docs(spacy.blank("zh").vocab))
    labels = sorted({e.label_ for doc in docs for e in doc.ents})
    index = {t: i for i, t in enumerate(tag_names(labels, "BIOES"))}
    words = [[t.text for t in doc] for doc in docs]
    gold = []
    for doc in docs:
        biluo = offsets_to_biluo_tags(doc, [(e.start_char, e.end_char, e.label_) for e in doc.ents])
        gold.append([index[t] for t in biluo_to_scheme(biluo, "BIOES")])
    tokenizer = BertTokenizerFast.from_pretrained(bert_dir)
    bert = BertModel.from_pretrained(bert_dir).to(device)
    head = nn.Sequential(nn.Dropout(DROPOUT), nn.Linear(bert.config.hidden_size, len(index))).to(device)
    crf = CRF(len(index), batch_first=True).to(device)
    head_params = list(head.parameters()) + list(crf.parameters())
    optimizer = torch.optim.AdamW(
        [{"params": bert.parameters(), "lr": 3e-5}, {"params": head_params, "lr": 1e-3}], weight_decay=0.01
    )

    def step(batch: Sequence[int]) -> None:
        enc = tokenizer([words[i] for i in batch], is_split_into_words=True, padding=True,
                        truncation=True, max_length=512, return_tensors="pt")
        longest = max(len(words[i]) for i in batch)
        first_piece = torch.zeros((len(batch), longest), dtype=torch.long)
        tags = torch.zeros((len(batch), longest), dtype=torch.long)
        for row, i in enumerate(batch):
            for pos, word in reversed(list(enumerate(enc.word_ids(row)))):
                if word is not None:
                    first_piece[row, word] = pos
            tags[row, : len(gold[i])] = torch.tensor(gold[i])
        lengths = torch.tensor([len(words[i]) for i in batch])
        mask = (torch.arange(longest).unsqueeze(0) < lengths.unsqueeze(1)).to(device)
        hidden = bert(input_ids=enc["input_ids"].to(device),
                      attention_mask=enc["attention_mask"].to(device)).last_hidden_state
        width = hidden.shape[-1]
        hidden = hidden.gather(1, first_piece.to(device).unsqueeze(-1).expand(-1, -1, width))
        loss = -crf(head(hidden), tags.to(device), mask=mask, reduction="sum")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(bert.parameters()) + head_params, 1.0)
        optimizer.step()
        optimizer.zero_grad()

    rng = random.Random(0)
    order = list(range(len(docs)))
    rng.shuffle(order)
    batches = list(minibatch(order, size=settings["train_batch_docs"]))
    chars = sum(len(doc.text) for doc in docs)
    bert.train()
    head.train()
    sync = torch.cuda.synchronize if device == "cuda" else lambda: None
    for batch in batches[:3]:
        step(batch)
    seconds = [timed(lambda: [step(b) for b in batches], sync) for _ in range(settings["repeats"])]
    return rate(chars, seconds)


def bench_gpu(doc_bin: DocBin, texts: List[str], settings: dict, tmp_dir: Path) -> dict:
    """The three heads on a BERT-base transformer, one at a time (for peak
    memory), then the plain transformers loop."""
    from thinc.api import require_gpu, set_gpu_allocator

    require_gpu(0)
    set_gpu_allocator("pytorch")  # cupy allocates through torch: one memory count
    bert_dir = make_random_bert(tmp_dir / "bert-base-random")
    configs = head_variants(trf_config(bert_dir))
    chars = sum(len(t) for t in texts)
    out = {"device": torch.cuda.get_device_name(0), "inference_chars_per_s": {},
           "train_chars_per_s": {}, "peak_gpu_mem_bytes": {}}
    for key in HEADS + ("hf_loop",):
        gc.collect()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        if key == "hf_loop":
            out["train_chars_per_s"][key] = hf_loop(bert_dir, doc_bin, settings)
        else:
            head = Head(key, configs[key], doc_bin)
            times = time_heads([head], texts, settings, sync=torch.cuda.synchronize)[key]
            out["train_chars_per_s"][key] = rate(chars, times["train"])
            out["inference_chars_per_s"][key] = rate(chars, times["inference"])
            if key == "crf_ner":
                out["viterbi_share"] = crf_breakdown(
                    head, texts, settings["pipe_batch_size"], settings["repeats"], torch.cuda.synchronize
                )["viterbi_share"]
            del head
        out["peak_gpu_mem_bytes"][key] = torch.cuda.max_memory_allocated()
    return out


# --------------------------------------------------------------------- main


def machine_info(quick: bool) -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf8") as file_:
            models = (line.split(":", 1)[1].strip() for line in file_ if line.startswith("model name"))
            cpu = next(models, cpu)
    except OSError:
        pass
    return {
        "cpu_model": cpu,
        "cpu_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS"),
        "loadavg_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "spacy": spacy.__version__,
        "thinc": thinc.__version__,
        "quick": quick,
    }


def goals(inference: Dict[str, float], train: Dict[str, float]) -> dict:
    """The issue's targets: crf_ner inference >= 0.9x ner; crf_ner cost <=
    1.15x the softmax head's, in training and in inference (cost = 1/speed)."""
    out = {
        "inference_vs_ner": inference["crf_ner"] / inference["ner"],
        "inference_cost_vs_softmax": inference["softmax"] / inference["crf_ner"],
        "train_cost_vs_softmax": train["softmax"] / train["crf_ner"],
    }
    out["met"] = {
        "inference_vs_ner>=0.9": out["inference_vs_ner"] >= 0.9,
        "inference_cost_vs_softmax<=1.15": out["inference_cost_vs_softmax"] <= 1.15,
        "train_cost_vs_softmax<=1.15": out["train_cost_vs_softmax"] <= 1.15,
    }
    return out


def print_table(result: dict) -> None:
    rows = [("", "inference chars/s", "train chars/s", "(CPU time) inference", "train")]
    cpu = result["cpu_time_chars_per_s"]
    for key in HEADS:
        speeds = (result["inference_chars_per_s"][key], result["train_chars_per_s"][key],
                  cpu["inference"][key], cpu["train"][key])
        rows.append((key, *(f"{v:,.0f}" for v in speeds)))
    gpu = result.get("gpu")
    if gpu:
        for key in HEADS + ("hf_loop",):
            inference = gpu["inference_chars_per_s"].get(key)
            train = gpu["train_chars_per_s"][key]
            rows.append((f"gpu {key}", f"{inference:,.0f}" if inference else "-", f"{train:,.0f}", "", ""))
    for row in rows:
        print(f"{row[0]:<14}{row[1]:>20}{row[2]:>16}{row[3]:>24}{row[4]:>10}")
    g, c = result["goals"], result["goals_cpu_time"]
    print(f"viterbi share of crf_ner predict: {result['viterbi_share']:.3f}")
    for key, text, goal in (
        ("inference_vs_ner", "crf_ner / ner inference speed:   ", ">= 0.9"),
        ("inference_cost_vs_softmax", "crf_ner / softmax inference cost:", "<= 1.15"),
        ("train_cost_vs_softmax", "crf_ner / softmax training cost: ", "<= 1.15"),
    ):
        print(f"{text} {g[key]:.2f} (CPU time {c[key]:.2f}; goal {goal})")
    print(f"convert MSRA train: {result['convert_chars_per_s']:,.0f} chars/s")
    if gpu:
        mem = ", ".join(f"{k} {v / 2**30:.2f} GiB" for k, v in gpu["peak_gpu_mem_bytes"].items())
        print(f"GPU ({gpu['device']}) viterbi share of crf_ner predict: {gpu['viterbi_share']:.3f}")
        print(f"peak GPU memory: {mem}")


def main(
    output: Path = typer.Option(..., "--output", help="JSON file to write"),
    quick: bool = typer.Option(False, "--quick", help="Small encoder, ~100 docs: seconds (CI)"),
    gpu: bool = typer.Option(False, "--gpu", help="Also benchmark the transformer pipeline on GPU 0"),
    n_docs: Optional[int] = typer.Option(None, "--n-docs", help="CLUENER dev docs (0: all 1343)"),
    repeats: Optional[int] = typer.Option(None, "--repeats", help="Timed passes per measurement"),
):
    if gpu:
        check_gpu()
    model = Config().from_disk(CNN_CONFIG, interpolate=False)["components"]["tok2vec"]["model"]
    settings = {
        "quick": quick,
        "n_docs": n_docs if n_docs is not None else (100 if quick else 400),
        "repeats": repeats or (3 if quick else 5),
        "train_batch_docs": 32,
        "pipe_batch_size": 256,
        # Quick (CI) mode: a small encoder, and small hash tables, whose dense
        # Adam update would otherwise dominate the few seconds it has.
        "width": 64 if quick else model["encode"]["width"],
        "depth": 1 if quick else model["encode"]["depth"],
        "char_rows": 2000 if quick else model["embed"]["char_rows"],
        "bigram_rows": 5000 if quick else model["embed"]["bigram_rows"],
    }
    result = {"quick": quick, "machine": machine_info(quick), "settings": settings}

    doc_bin = read_dev_docs(settings["n_docs"])
    texts = [doc.text for doc in doc_bin.get_docs(spacy.blank("zh").vocab)]
    chars = sum(len(t) for t in texts)
    settings.update(n_docs=len(texts), chars=chars, data=str(CLUENER_DEV))
    configs = head_variants(cnn_config(settings))
    heads = [Head(key, configs[key], doc_bin) for key in HEADS]
    times = time_heads(heads, texts, settings)
    result["inference_chars_per_s"] = {k: rate(chars, t["inference"]) for k, t in times.items()}
    result["train_chars_per_s"] = {k: rate(chars, t["train"]) for k, t in times.items()}
    result["seconds"] = times
    result["cpu_time_chars_per_s"] = {
        what: {k: rate(chars, t[f"{what}_cpu"]) for k, t in times.items()} for what in ("inference", "train")
    }
    breakdown = crf_breakdown(heads[0], texts, settings["pipe_batch_size"], settings["repeats"])
    result["viterbi_share"] = breakdown["viterbi_share"]
    result["crf_ner_inference_breakdown"] = breakdown
    result["goals"] = goals(result["inference_chars_per_s"], result["train_chars_per_s"])
    cpu = result["cpu_time_chars_per_s"]
    result["goals_cpu_time"] = goals(cpu["inference"], cpu["train"])
    del heads
    with tempfile.TemporaryDirectory() as tmp:
        convert = bench_convert(quick, 3, Path(tmp))
        result["convert_chars_per_s"] = convert.pop("chars_per_s")
        result["convert"] = convert
        if gpu:
            result["gpu"] = bench_gpu(doc_bin, texts, settings, Path(tmp))
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    _check_finite(result)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print_table(result)
    print(f"Wrote {output}", file=sys.stderr)


def _check_finite(result: dict) -> None:
    """A zero or NaN speed means a broken measurement: fail, write nothing."""
    speeds = {"convert_chars_per_s": result["convert_chars_per_s"]}
    for section in ("inference_chars_per_s", "train_chars_per_s"):
        speeds.update({f"{section}.{k}": v for k, v in result[section].items()})
    for name, value in speeds.items():
        if not (math.isfinite(value) and value > 0):
            raise RuntimeError(f"benchmark: {name} = {value}")
    if not 0.0 <= result["viterbi_share"] <= 1.0:
        raise RuntimeError(f"benchmark: viterbi_share = {result['viterbi_share']}")


if __name__ == "__main__":
    typer.run(main)
