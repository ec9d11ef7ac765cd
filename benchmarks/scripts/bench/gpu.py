"""The GPU part of the benchmark: a BERT-base-sized transformer under the three heads."""
import gc
from pathlib import Path
from typing import List

import torch
from spacy.tokens import DocBin

from .configs import head_variants, trf_config
from .data import BERT_VOCAB
from .hf_loop import hf_loop
from .timing import Head, crf_breakdown, rate, time_heads

HEADS = ("crf_ner", "ner", "softmax")


def check_gpu() -> None:
    """Fail before any work if --gpu cannot run here."""
    if not torch.cuda.is_available():
        raise SystemExit(
            "benchmark --gpu: torch sees no CUDA device (torch.cuda.is_available() is False). "
            "Run without --gpu, or on a machine with an NVIDIA GPU and a CUDA build of torch."
        )
    import importlib

    try:
        for module in ("cupy", "spacy_transformers", "transformers"):
            importlib.import_module(module)
    except ImportError as err:
        raise SystemExit(f"benchmark --gpu: {err}. Install cupy for this CUDA (e.g. cupy-cuda12x), "
                         "spacy-transformers and transformers.") from None
    if not BERT_VOCAB.exists():
        raise SystemExit(f"benchmark --gpu: Chinese BERT vocab not found at {BERT_VOCAB}")


# scripts/gpu_check.py --dry-run: the tiny BERT of tests/transformer/conftest.py
TINY_BERT = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}


def make_random_bert(path: Path, **sizes) -> Path:
    """BERT-base sizes (12 layers, hidden 768, 12 heads) unless `sizes`
    (BertConfig keywords) say otherwise, random weights, the real Chinese
    vocab (21,128 entries): nothing downloaded."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=21128, **sizes)).save_pretrained(path)
    BertTokenizerFast(vocab_file=str(BERT_VOCAB)).save_pretrained(path)
    return path


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
