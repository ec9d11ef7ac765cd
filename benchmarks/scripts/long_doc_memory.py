"""Peak memory of one long doc through a pipeline, per doc length.

Each measurement runs in a fresh subprocess, which loads the pipeline, runs
`nlp(text)` once and notes the peak RSS of that call: on Linux the peak is
reset after loading (/proc/self/clear_refs), so a loading peak above the
doc's (a large BERT) does not hide it, and "doc +" is that peak over the RSS
before the call; elsewhere both are resource.getrusage's peak, loading
included. Pipelines: configs/cnn_crf.cfg
(full size, initialised on a few sentences: memory does not depend on training)
and configs/trf_crf.cfg on a tiny random BERT with the Chinese vocab.
Prints the figures and a hash of the predicted entities, so that two
versions of the code (or `--unchunked` and the default) can be compared for
identical predictions; `--output` also writes them as JSON.

    python scripts/long_doc_memory.py [--sizes 20000 50000 200000] [--shared ../shared]
        [--pipelines cnn trf] [--unchunked] [--scores] [--output FILE.json]

--unchunked builds the CNN pipeline's tok2vec as `spacy.Tok2Vec.v2` (one pass
over the whole doc, as before `spacy_cluener.ChunkedTok2Vec.v1`; same weights);
--scores turns on crf_ner's entity confidence (the float64 forward-backward).
"""
import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEXTS = [
    ("张三在上海工作", [(0, 2, "name"), (3, 5, "address")]),
    ("李四去了广州", [(0, 2, "name"), (4, 6, "address")]),
    ("我爱北京天安门", [(2, 4, "address"), (4, 7, "scene")]),
    ("王五是腾讯的工程师", [(0, 2, "name"), (3, 5, "company"), (6, 9, "position")]),
]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise KeyError(field)


def reset_peak() -> bool:
    """Reset this process's peak RSS (VmHWM) to its RSS now; False where it cannot be."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return status_mb("VmHWM") <= status_mb("VmRSS") + 1
    except (OSError, KeyError):
        return False


def long_text(n: int) -> str:
    unit = "王五是腾讯的工程师，张三在上海工作。李四去了广州，我爱北京天安门。"
    return (unit * (n // len(unit) + 1))[:n]


def child(model: str, size: int, scores: bool) -> None:
    import spacy

    nlp = spacy.load(model)
    if scores:
        from spacy_cluener.evaluation.confidence import enable_scores

        enable_scores(nlp)  # as `predict --scores`
    text = long_text(size)
    nlp("张三在北京")  # warm up: lazily allocated buffers are not the doc's cost
    loading = peak_mb()
    exact = reset_peak()
    before = status_mb("VmRSS") if exact else loading
    doc = nlp(text)
    after = status_mb("VmHWM") if exact else peak_mb()
    ents = "".join(f"{e.start_char},{e.end_char},{e.label_};" for e in doc.ents)
    digest = hashlib.sha256(ents.encode()).hexdigest()[:12]
    print(f"{size:>8,} chars: peak RSS {after:7.0f} MB (loaded {before:6.0f} MB, doc +{after - before:6.0f} MB;"
          f" loading peaked at {loading:.0f} MB)  {len(doc.ents):6d} ents, sha {digest}")
    row = {"chars": size, "peak_rss_mb": round(after, 1), "loaded_rss_mb": round(before, 1),
           "doc_mb": round(after - before, 1), "entities": len(doc.ents), "entities_sha": digest}
    print("RESULT " + json.dumps(row))


def build(kind: str, out: Path, shared: Path, unchunked: bool = False) -> Path:
    import spacy
    from spacy import util
    from spacy.training import Example
    from thinc.api import fix_random_seed

    overrides = {}
    if kind == "trf":
        import torch
        import transformers

        torch.manual_seed(0)
        bert = out / "tiny-bert"
        config = transformers.BertConfig(vocab_size=21128, hidden_size=32, num_hidden_layers=2,
                                         num_attention_heads=2, intermediate_size=64)
        transformers.BertModel(config).save_pretrained(bert)
        vocab = shared / "models" / "chinese-bert-vocab" / "vocab.txt"
        transformers.BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(bert)
        overrides = {"components.transformer.model.name": str(bert)}
    cfg = REPO / "configs" / ("cnn_crf.cfg" if kind == "cnn" else "trf_crf.cfg")
    config = util.load_config(cfg, overrides=overrides, interpolate=False)
    if kind == "cnn" and unchunked:
        settings = config["components"]["tok2vec"]["model"]
        settings["@architectures"] = "spacy.Tok2Vec.v2"
        settings.pop("chunk_size", None)
        settings.pop("overlap", None)
    config = config.interpolate()
    fix_random_seed(0)
    nlp = util.load_model_from_config(config, auto_fill=True, validate=True)
    egs = [Example.from_dict(nlp.make_doc(t), {"entities": g}) for t, g in TEXTS]
    nlp.initialize(lambda: egs)
    nlp.to_disk(out / kind)
    del spacy
    return out / kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 50_000, 200_000])
    parser.add_argument("--pipelines", nargs="+", default=["cnn", "trf"], choices=["cnn", "trf"])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--unchunked", action="store_true", help="CNN tok2vec as spacy.Tok2Vec.v2 (no windows)")
    parser.add_argument("--scores", action="store_true", help="crf_ner entity confidence on")
    parser.add_argument("--output", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.scores)
        return
    result = {"settings": {"sizes": args.sizes, "unchunked": args.unchunked, "scores": args.scores},
              "machine": {"loadavg_start": list(os.getloadavg())}, "pipelines": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.pipelines:
            model = build(kind, Path(tmp), args.shared, args.unchunked)
            name = "configs/cnn_crf.cfg" + (", tok2vec spacy.Tok2Vec.v2" if args.unchunked else "")
            name = name if kind == "cnn" else "configs/trf_crf.cfg, tiny BERT"
            print(f"{kind} pipeline ({name}{', scores on' if args.scores else ''}):")
            for size in args.sizes:
                cmd = [sys.executable, __file__, "--child", str(model), str(size)] + (["--scores"] if args.scores else [])
                proc = subprocess.run(cmd, capture_output=True, text=True)
                lines = proc.stdout.splitlines()
                rows = [json.loads(line[len("RESULT "):]) for line in lines if line.startswith("RESULT ")]
                print("\n".join(line for line in lines if not line.startswith("RESULT ")) or proc.stderr[-2000:], flush=True)
                if proc.returncode != 0 or not rows:
                    raise SystemExit(f"long_doc_memory: the {kind} run at {size} chars failed")
                result["pipelines"].setdefault(kind, {"pipeline": name, "runs": []})["runs"].extend(rows)
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    main()
