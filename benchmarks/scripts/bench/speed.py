"""Prediction speed of a loaded pipeline: both modes timed, the per-stage
profile, the FLOPs of each configuration, and a hash of the predictions.

Two modes, as users run the pipeline: batched (`nlp.pipe(texts,
batch_size=256)`, a batch job) and one text at a time (`nlp(text)`, a web
service, where the per-doc overhead matters as much as the FLOPs).
"""
import hashlib
import json
import statistics
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from spacy.language import Language
from thinc.api import Model

MODES = ("batched", "one_at_a_time")


def read_msra_texts(path: Path, limit: int = 0) -> List[str]:
    """The sentences of a char-per-line BIO file (MSRA test: 4,631), as text."""
    texts, chars = [], []
    with Path(path).open(encoding="utf8") as file_:
        for line in file_:
            if not line.strip():
                if chars:
                    texts.append("".join(chars))
                chars = []
            else:
                chars.append(line.split("\t", 1)[0])
    if chars:
        texts.append("".join(chars))
    return texts[:limit] if limit else texts


def run_mode(nlp: Language, texts: Sequence[str], mode: str, batch_size: int = 256) -> None:
    if mode == "batched":
        for _ in nlp.pipe(texts, batch_size=batch_size):
            pass
    else:
        for text in texts:
            nlp(text)


def time_modes(nlp: Language, texts: Sequence[str], repeats: int, batch_size: int = 256) -> Dict[str, dict]:
    """chars/s of each mode from process CPU time and wall clock (median of
    the repeats, after an untimed warm-up); the modes alternate per repeat."""
    chars = sum(map(len, texts))
    for mode in MODES:
        run_mode(nlp, texts[:batch_size], mode, batch_size)
    runs = {mode: {"cpu_s": [], "wall_s": []} for mode in MODES}
    for _ in range(repeats):
        for mode in MODES:
            cpu, wall = time.process_time(), time.perf_counter()
            run_mode(nlp, texts, mode, batch_size)
            runs[mode]["wall_s"].append(time.perf_counter() - wall)
            runs[mode]["cpu_s"].append(time.process_time() - cpu)
    return {mode: {"cpu_chars_per_s": round(chars / statistics.median(r["cpu_s"])),
                   "wall_chars_per_s": round(chars / statistics.median(r["wall_s"])), **r}
            for mode, r in runs.items()}


def _tok2vec_model(nlp: Language) -> Model:
    return nlp.get_pipe("tok2vec").model


def _layer_flops(layer: Model) -> int:
    """Multiply-adds x 2 per token of a dense layer (Maxout, Linear, ...): its W."""
    if "W" in layer.param_names and layer.has_param("W"):
        return 2 * int(layer.get_param("W").size)
    return 0


def flops_per_char(nlp: Language) -> Dict[str, int]:
    """FLOPs per character (one token per character) of the dense parts:
    the embedding mix, the CNN, the emission layer, and Viterbi's add-max
    (2 x tags^2). Hash-table lookups and the lexicon's weighted sums are
    memory traffic, not counted."""
    tok2vec = _tok2vec_model(nlp)
    embed, encode = tok2vec.get_ref("embed"), tok2vec.get_ref("encode")
    comp = nlp.get_pipe("crf_ner")
    n_tags = len(comp.tag_names)
    crf = comp.crf
    emission = 2 * int(crf.emissions.weight.numel()) if crf is not None else 0
    out = {
        "embed_mix": sum(_layer_flops(layer) for layer in embed.walk()),
        "cnn": sum(_layer_flops(layer) for layer in encode.walk()),
        "emission": emission,
        "viterbi": 2 * n_tags * n_tags,
    }
    out["total"] = sum(out.values())
    return out


class StageTimer:
    """Exclusive seconds per stage: a stage's time leaves out the stages
    called inside it (a stack of open stages)."""

    def __init__(self):
        self.seconds: Dict[str, float] = {}
        self.stack: List[list] = []

    def wrap(self, stage: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            frame = [time.process_time(), 0.0]
            self.stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                self.stack.pop()
                elapsed = time.process_time() - frame[0]
                self.seconds[stage] = self.seconds.get(stage, 0.0) + elapsed - frame[1]
                if self.stack:
                    self.stack[-1][1] += elapsed

        return timed


def _stages(nlp: Language) -> List[Tuple[str, object, str]]:
    """(stage, owner, attribute) of everything the profile times."""
    tok2vec_pipe = nlp.get_pipe("tok2vec")
    tok2vec = tok2vec_pipe.model
    embed, encode = tok2vec.get_ref("embed"), tok2vec.get_ref("encode")
    comp = nlp.get_pipe("crf_ner")
    out: List[Tuple[str, object, str]] = [
        ("tokenizer + Doc", nlp, "tokenizer"),
        ("tok2vec wrapper (chunks, ragged)", tok2vec, "_func"),
        ("tok2vec listeners", tok2vec_pipe, "set_annotations"),
        ("CNN encoder", encode, "_func"),
        ("emission layer", comp.model.get_ref("crf_head"), "_func"),
        ("crf_ner predict (presets, masks, padding)", comp, "predict"),
        ("set_annotations (ents, SpanGroup)", comp, "set_annotations"),
    ]
    for layer in embed.walk():
        if layer.name == "char_ngram_features":
            out.append(("char + bigram features", layer, "_func"))
        elif layer.name == "soft_lexicon":
            out.append(("lexicon matching + sums", layer, "_func"))
        elif layer.name.startswith("hashembed"):
            out.append(("hash embeddings", layer, "_func"))
        elif layer.name.startswith("maxout"):
            out.append(("embed mix (Maxout)", layer, "_func"))
    from spacy_cluener.layers import crf_batch

    # the numpy marginals run for few docs (one text at a time), torch's for batches
    names = {"viterbi": "Viterbi", "_posteriors": "marginals", "_score_entities": "marginals",
             "span_marginals_numpy": "marginals"}
    for name, stage in names.items():
        if hasattr(crf_batch, name):
            out.append((stage, crf_batch, name))
    if comp.crf is not None:  # torch's Viterbi (large batches, GPU, and before numpy's)
        out.append(("Viterbi", comp.crf, "decode"))
    return out


def profile(nlp: Language, texts: Sequence[str], mode: str, batch_size: int = 256) -> dict:
    """Exclusive CPU seconds per stage over one pass of `mode`, per char and per doc."""
    timer = StageTimer()
    patched = []
    seen = set()
    for stage, owner, attr in _stages(nlp):
        if (id(owner), attr) in seen:
            continue
        seen.add((id(owner), attr))
        original = getattr(owner, attr)
        # thinc's Model keeps _func in a slot: set it back, never delete it
        had_own = isinstance(owner, Model) or attr in getattr(owner, "__dict__", {})
        patched.append((owner, attr, original, had_own))
        setattr(owner, attr, timer.wrap(stage, original))
    try:
        start = time.process_time()
        total_timer = timer.wrap("rest (spaCy's Language, thinc glue)", lambda: run_mode(nlp, texts, mode, batch_size))
        total_timer()
        total = time.process_time() - start
    finally:
        for owner, attr, original, had_own in reversed(patched):
            if had_own:
                setattr(owner, attr, original)
            else:
                delattr(owner, attr)
    chars, docs = sum(map(len, texts)), len(texts)
    stages = {
        stage: {"s": round(s, 4), "share": round(s / total, 4), "ns_per_char": round(1e9 * s / chars),
                "us_per_doc": round(1e6 * s / docs, 1)}
        for stage, s in sorted(timer.seconds.items(), key=lambda kv: -kv[1])
    }
    return {"mode": mode, "cpu_s": round(total, 3), "chars_per_s": round(chars / total), "stages": stages}


def prediction_hash(nlp: Language, texts: Sequence[str], batch_size: int = 256) -> Tuple[str, int]:
    """sha256 of every doc's (start, end, label) entities, and their count."""
    digest, n = hashlib.sha256(), 0
    for doc in nlp.pipe(texts, batch_size=batch_size):
        ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        n += len(ents)
        digest.update(json.dumps(ents).encode("utf8"))
    return digest.hexdigest(), n


def model_settings(nlp: Language) -> Optional[dict]:
    """The encoder sizes of a cnn_crf-style pipeline, for the tables."""
    try:
        cfg = nlp.config["components"]["tok2vec"]["model"]
        return {"width": cfg["encode"]["width"], "depth": cfg["encode"]["depth"],
                "maxout_pieces": cfg["encode"]["maxout_pieces"], "embed_width": cfg["embed"].get("embed_width"),
                "lexicon": "lexicon" in cfg["embed"]}
    except KeyError:
        return None
