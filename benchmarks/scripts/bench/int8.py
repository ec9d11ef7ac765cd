"""Parts of scripts/int8_cost.py: a BERT-base-sized transformer pipeline, its
int8 copy, an ONNX Runtime stand-in for its torch module, and the timing of a
loaded pipeline in this process."""
import json
import resource
import statistics
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from .data import BERT_VOCAB, TRF_CONFIG

# chinese-bert-wwm-ext's shape (BERT-base): random weights, the real vocabulary
BERT_BASE = {"layers": 12, "hidden": 768, "heads": 12, "intermediate": 3072}


def make_bert(path: Path, layers: int, hidden: int, heads: int, intermediate: int, seed: int = 0) -> Path:
    """A randomly initialised BertModel with the Chinese vocabulary, saved to `path`."""
    import torch
    import transformers

    torch.manual_seed(seed)
    config = transformers.BertConfig(vocab_size=21128, hidden_size=hidden, num_hidden_layers=layers,
                                     num_attention_heads=heads, intermediate_size=intermediate,
                                     max_position_embeddings=512)
    transformers.BertModel(config).save_pretrained(path)
    transformers.BertTokenizerFast(vocab_file=str(BERT_VOCAB)).save_pretrained(path)
    return path


def make_trf_pipeline(bert: Path, out: Path, texts: Sequence[str]) -> Path:
    """configs/trf_crf.cfg on `bert`, initialized on `texts` (random CRF head:
    the speed and size do not depend on training), saved to `out`."""
    from spacy import util
    from spacy.training import Example
    from thinc.api import fix_random_seed

    config = util.load_config(TRF_CONFIG, overrides={"components.transformer.model.name": str(bert)},
                              interpolate=False).interpolate()
    fix_random_seed(0)
    nlp = util.load_model_from_config(config, auto_fill=True, validate=True)
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": [(0, 1, "name")]}) for t in texts if t]
    nlp.initialize(lambda: examples)
    nlp.to_disk(out)
    return out


# --- ONNX Runtime in place of the torch module (benchmark only)


def export_onnx(bert: Path, out: Path) -> Path:
    """The fp32 ONNX graph of the BertModel saved in `bert` (the package's
    export, which `quantize --runtime onnx` quantises): for `onnx-fp32`."""
    import transformers

    from spacy_cluener.layers.onnx_shim import export_onnx as export

    return export(transformers.BertModel.from_pretrained(bert), out)


def use_onnx(nlp, onnx_path: Path, threads: int) -> None:
    """Replace the transformer component's torch module by an onnxruntime
    session on `threads` intra-op threads: tokenization, strided windows,
    alignment, listener and CRF stay the pipeline's own."""
    import onnxruntime
    import torch
    from transformers.modeling_outputs import BaseModelOutput

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    shim = nlp.get_pipe("transformer").model.layers[0].shims[0]
    config = shim._hfmodel.transformer.config

    class OrtBert(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.config = config

        @property
        def device(self):
            return torch.device("cpu")

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            if token_type_ids is None:
                token_type_ids = torch.zeros_like(input_ids)
            # the exported graph takes int64 (spacy-transformers passes a float mask)
            feeds = {"input_ids": input_ids.numpy().astype("int64"),
                     "attention_mask": attention_mask.numpy().astype("int64"),
                     "token_type_ids": token_type_ids.numpy().astype("int64")}
            (hidden,) = session.run(["last_hidden_state"], feeds)
            return BaseModelOutput(last_hidden_state=torch.from_numpy(hidden))

    ort = OrtBert()
    shim._model = ort
    shim._hfmodel.transformer = ort  # the torch weights can go


# --- timing and memory of a loaded pipeline


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def time_modes(nlp, texts: Sequence[str], repeats: int, batch_size: int) -> Dict[str, Dict[str, float]]:
    """Median chars/s (wall and per process CPU second) of `nlp.pipe` over
    the texts in batches ("batched") and of `nlp(text)` one text at a time
    ("single"), after one untimed pass of each."""
    chars = sum(map(len, texts))

    def batched():
        for _ in nlp.pipe(texts, batch_size=batch_size):
            pass

    def single():
        for text in texts:
            nlp(text)

    out = {}
    for mode, run in (("batched", batched), ("single", single)):
        run()  # warm-up: allocations, oneDNN/fbgemm kernels
        walls, cpus = [], []
        for _ in range(repeats):
            cpu, wall = time.process_time(), time.perf_counter()
            run()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        out[mode] = {"chars_per_s": round(chars / statistics.median(walls)),
                     "chars_per_cpu_s": round(chars / statistics.median(cpus)),
                     "wall_s": [round(w, 3) for w in walls], "cpu_s": [round(c, 3) for c in cpus]}
    return out


def profile_pass(nlp, texts: Sequence[str], batch_size: int, top: int = 12) -> Dict[str, object]:
    """Where one batched pass spends its CPU time: torch ops by self CPU time
    (torch.profiler), and the share of the whole pass inside the torch module."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    shim = nlp.get_pipe("transformer").model.layers[0].shims[0]
    inner = {"s": 0.0}
    forward = shim._model.forward

    def timed_forward(*args, **kwargs):
        start = time.process_time()
        try:
            return forward(*args, **kwargs)
        finally:
            inner["s"] += time.process_time() - start

    shim._model.forward = timed_forward
    try:
        start = time.process_time()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in nlp.pipe(texts, batch_size=batch_size):
                pass
        total = time.process_time() - start
    finally:
        del shim._model.forward
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    own = sum(e.self_cpu_time_total for e in events) or 1
    return {
        "pass_cpu_s": round(total, 3),
        "bert_module_share": round(inner["s"] / total, 3) if total else None,
        "top_ops_self_cpu_share": [[e.key, round(e.self_cpu_time_total / own, 3)] for e in events[:top]],
        "torch_threads": torch.get_num_threads(),
    }


def child_result(line_prefix: str, payload: Dict) -> str:
    return line_prefix + json.dumps(payload)


def parse_child(stdout: str, prefix: str) -> Optional[Dict]:
    rows = [json.loads(line[len(prefix):]) for line in stdout.splitlines() if line.startswith(prefix)]
    return rows[-1] if rows else None


def speedups(variants: Dict[str, Dict], base: str = "fp32") -> Dict[str, Dict[str, Dict[str, Dict[str, float]]]]:
    """variant -> threads -> mode -> {"cpu", "wall"}: its chars/s over `base`'s
    (per process CPU second, and per wall second)."""
    out: Dict[str, Dict[str, Dict[str, Dict[str, float]]]] = {}
    for name, v in variants.items():
        if name == base:
            continue
        for threads, modes in v["threads"].items():
            for mode, row in modes.items():
                ref = variants[base]["threads"][threads][mode]
                out.setdefault(name, {}).setdefault(threads, {})[mode] = {
                    "cpu": round(row["chars_per_cpu_s"] / ref["chars_per_cpu_s"], 2),
                    "wall": round(row["chars_per_s"] / ref["chars_per_s"], 2),
                }
    return out


def thread_list(spec: str) -> List[int]:
    return [int(t) for t in spec.split(",") if t.strip()]
