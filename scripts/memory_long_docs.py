"""Peak memory of one long doc through a pipeline, per doc length.

Each measurement runs in a fresh subprocess, which loads the pipeline, notes
its peak RSS (resource.getrusage), runs `nlp(text)` once and notes the peak
again; the difference is what the doc itself costs. Pipelines: configs/cnn_crf.cfg
(full size, initialised on a few sentences: memory does not depend on training)
and configs/trf_crf.cfg on a tiny random BERT with the Chinese vocab.
Prints figures only, and a hash of the predicted entities, so that two
versions of the code can be compared for identical predictions.

    python scripts/memory_long_docs.py [--sizes 20000 50000 200000] [--shared ../shared]
"""
import argparse
import hashlib
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEXTS = [
    ("张三在上海工作", [(0, 2, "name"), (3, 5, "address")]),
    ("李四去了广州", [(0, 2, "name"), (4, 6, "address")]),
    ("我爱北京天安门", [(2, 4, "address"), (4, 7, "scene")]),
    ("王五是腾讯的工程师", [(0, 2, "name"), (3, 5, "company"), (6, 9, "position")]),
]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def long_text(n: int) -> str:
    unit = "王五是腾讯的工程师，张三在上海工作。李四去了广州，我爱北京天安门。"
    return (unit * (n // len(unit) + 1))[:n]


def child(model: str, size: int) -> None:
    import spacy

    nlp = spacy.load(model)
    text = long_text(size)
    nlp("张三在北京")  # warm up: lazily allocated buffers are not the doc's cost
    before = peak_mb()
    doc = nlp(text)
    after = peak_mb()
    ents = "".join(f"{e.start_char},{e.end_char},{e.label_};" for e in doc.ents)
    digest = hashlib.sha256(ents.encode()).hexdigest()[:12]
    print(f"{size:>8,} chars: peak RSS {after:7.0f} MB (loaded {before:6.0f} MB, doc +{after - before:6.0f} MB)"
          f"  {len(doc.ents):6d} ents, sha {digest}")


def build(kind: str, out: Path, shared: Path) -> Path:
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
    config = util.load_config(cfg, overrides=overrides, interpolate=False).interpolate()
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
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.pipelines:
            model = build(kind, Path(tmp), args.shared)
            print(f"{kind} pipeline ({'configs/cnn_crf.cfg' if kind == 'cnn' else 'configs/trf_crf.cfg, tiny BERT'}):")
            for size in args.sizes:
                proc = subprocess.run([sys.executable, __file__, "--child", str(model), str(size)],
                                      capture_output=True, text=True)
                print(proc.stdout.rstrip() or proc.stderr[-2000:], flush=True)


if __name__ == "__main__":
    main()
