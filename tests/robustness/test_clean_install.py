"""The two packaged wheels alone, in a clean virtual environment.

Trains a small pipeline from configs/cnn_crf.cfg (conftest), packages it
with scripts/package.py into DIST (the spacy_cluener library wheel and the
zh_cluener_crf pipeline wheel), creates a venv WITHOUT system site packages,
installs torch==2.13.0 first (pip takes the local CPU wheel, as .ci/run does;
any other torch spec would download GBs), then both wheels with the one
documented command `pip install DIST/*.whl` (their other requirements from
the package index), and uninstalls jieba: the lexicon read from its dict.txt
at training time travels in the pipeline. From `/`, with no PYTHONPATH, it loads the pipeline and
runs convert, report and predict; then installs the checkout in editable
mode on top and checks that the checkout wins, registered once.

Takes a few minutes (mostly pip): in the slow tier (`--slow`); set
SPACY_CLUENER_SKIP_CLEAN_INSTALL=1 where pip cannot reach a package index.
"""
import importlib.metadata
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from ..util import ODD_TEXTS, REPO, TRAIN_DATA, ents

pytestmark = [
    pytest.mark.slow,  # a virtualenv, torch and both wheels installed by pip
    pytest.mark.skipif(
        os.environ.get("SPACY_CLUENER_SKIP_CLEAN_INSTALL") == "1",
        reason="SPACY_CLUENER_SKIP_CLEAN_INSTALL=1: no package index to install from",
    ),
]

CHECK = r"""
import json, sys
from importlib.metadata import entry_points
from importlib.util import find_spec
import spacy
nlp = spacy.load("zh_cluener_crf")  # crf_ner found through the wheel's entry points
import spacy_cluener, zh_cluener_crf, torch
texts = json.loads(sys.stdin.read())
print(json.dumps({
    "spacy_cluener": spacy_cluener.__file__,
    "crf_ner_entry_points": [ep.value for ep in entry_points(group="spacy_factories") if ep.name == "crf_ner"],
    "model_package": zh_cluener_crf.__file__,
    "torch": torch.__version__,
    "jieba": find_spec("jieba") is not None,
    "lexicon_words": len(nlp.get_pipe("tok2vec").model.get_ref("embed").get_ref("lexicon").attrs["lexicon"]),
    "pipe_names": nlp.pipe_names,
    "ents": [[(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents] for doc in nlp.pipe(texts)],
}))
"""


def clean_env(venv: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONNOUSERSITE"] = "1"
    return env


def run(cmd, timings, label, **kwargs):
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    timings[label] = time.perf_counter() - start
    assert proc.returncode == 0, f"{label} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def cluener_line(text, gold):
    label = {}
    for start, end, type_ in gold:
        label.setdefault(type_, {}).setdefault(text[start:end], []).append([start, end - 1])
    return json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n"


def test_two_wheels_in_a_clean_venv(cnn_nlp, cnn_model_dir, tmp_path):
    timings = {}
    # 1.7 GB (torch) in 44,000 files: not deleted here, where removing freshly
    # written files took 85 s; pytest keeps the tmp dirs of the last 3 runs only.
    venv = tmp_path / "venv"
    work = tmp_path / "outside"  # for the files; commands run from /
    work.mkdir()
    assert REPO not in work.resolve().parents

    dist = tmp_path / "packages" / "dist"
    run([sys.executable, str(REPO / "scripts" / "package.py"), str(cnn_model_dir), str(tmp_path / "packages"),
         "--name", "cluener_crf", "--version", "0.1.0"], timings, "package", cwd=REPO)
    lib_version = importlib.metadata.version("spacy-cluener")
    wheels = sorted(dist.glob("*.whl"))
    assert [w.name for w in wheels] == [f"spacy_cluener-{lib_version}-py3-none-any.whl",
                                        "zh_cluener_crf-0.1.0-py3-none-any.whl"]
    with zipfile.ZipFile(wheels[1]) as whl:
        assert not [n for n in whl.namelist() if n.startswith("spacy_cluener/")], "the pipeline wheel holds library code"
        requires = [line for line in whl.read("zh_cluener_crf-0.1.0.dist-info/METADATA").decode().splitlines()
                    if line.startswith("Requires-Dist: spacy-cluener")]
        meta = json.loads(whl.read("zh_cluener_crf/meta.json"))
    assert requires == [f"Requires-Dist: spacy-cluener=={lib_version}"]
    assert meta["license"] == "MIT" and meta["author"] and meta["url"]
    assert [s["name"].split()[0] for s in meta["sources"]] == ["CLUENER2020", "jieba"]
    assert all(s["license"] for s in meta["sources"])

    run([sys.executable, "-m", "venv", str(venv)], timings, "venv", cwd="/", env=clean_env(venv))
    python = str(venv / "bin" / "python")
    env = clean_env(venv)
    cfg = run([python, "-c", ("import sys; print(sys.prefix != sys.base_prefix); import site; "
                              "print(any('site-packages' in p and not p.startswith(sys.prefix) for p in sys.path))")],
              timings, "probe", cwd="/", env=env)
    assert cfg.stdout.split() == ["True", "False"], "the venv sees system site-packages"
    run([python, "-m", "pip", "install", "-q", "torch==2.13.0"], timings, "pip torch", cwd="/", env=env)
    # the documented command: pip install DIST/*.whl
    run([python, "-m", "pip", "install", "-q", *map(str, wheels)], timings, "pip wheels+deps", cwd="/", env=env)
    # the lexicon was read from jieba's dict.txt at training time; the pipeline carries it
    run([python, "-m", "pip", "uninstall", "-q", "-y", "jieba"], timings, "pip uninstall jieba", cwd="/", env=env)

    texts = [t for t, _ in TRAIN_DATA] + [ODD_TEXTS[k] for k in ("empty", "emoji", "mixed scripts", "control characters")]
    proc = run([python, "-c", CHECK], timings, "load+predict", cwd="/", env=env, input=json.dumps(texts))
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    venv_root = venv.resolve()
    for key in ("spacy_cluener", "model_package"):
        path = Path(out[key]).resolve()
        assert venv_root in path.parents and "site-packages" in path.parts, f"{key} imported from {path}"
        assert REPO not in path.parents
    assert len(out["crf_ner_entry_points"]) == 1
    assert out["torch"] == "2.13.0+cpu"
    assert out["jieba"] is False and out["lexicon_words"] > 300_000
    assert out["pipe_names"] == ["tok2vec", "crf_ner"]
    for (_, gold), pred in zip(TRAIN_DATA, out["ents"]):
        assert [tuple(e[:3]) for e in pred] == gold
    for text, pred in zip(texts, out["ents"]):
        for start, end, _, surface in pred:
            assert 0 <= start < end <= len(text) and text[start:end] == surface
    # the installed wheels predict exactly what the checkout's pipeline does
    assert [[tuple(e[:3]) for e in p] for p in out["ents"]] == [ents(d) for d in cnn_nlp.pipe(texts)]

    # the library's CLI: convert, report (its charts need matplotlib), predict
    gold_json = work / "gold.json"
    gold_json.write_text("".join(cluener_line(t, g) for t, g in TRAIN_DATA), encoding="utf-8")
    run([python, "-m", "spacy_cluener", "convert", str(gold_json), str(work / "gold.spacy"), "--format", "cluener"],
        timings, "convert CLI", cwd="/", env=env)
    run([python, "-m", "spacy_cluener", "report", "zh_cluener_crf", str(work / "gold.spacy"),
         "--output", str(work / "report")], timings, "report CLI", cwd="/", env=env)
    for name in ("report.json", "per_type_f1.png", "error_kinds.png"):
        assert (work / "report" / name).stat().st_size > 0, name
    inp = work / "in.json"
    inp.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)),
                   encoding="utf-8")
    run([python, "-m", "spacy_cluener", "predict", "zh_cluener_crf", str(inp), str(work / "pred.json")],
        timings, "predict CLI", cwd="/", env=env)
    lines = [json.loads(line) for line in (work / "pred.json").read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {"id": 0, "label": {"name": {"张三": [[0, 1]]}, "address": {"上海": [[3, 4]]}}}

    # an editable checkout installed later replaces the library wheel
    run([python, "-m", "pip", "install", "-q", "-e", str(REPO), "--no-deps"], timings, "pip -e checkout", cwd="/", env=env)
    proc = run([python, "-c", CHECK], timings, "load (editable)", cwd="/", env=env, input=json.dumps(texts[:1]))
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert REPO in Path(out["spacy_cluener"]).resolve().parents, out["spacy_cluener"]
    assert len(out["crf_ner_entry_points"]) == 1, out["crf_ner_entry_points"]
    assert [tuple(e[:3]) for e in out["ents"][0]] == TRAIN_DATA[0][1]

    print("clean-room install timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
