"""The packaged wheel alone, in a clean virtual environment.

Trains a small pipeline from configs/cnn_crf.cfg (conftest), packages it
with scripts/package.py, creates a venv WITHOUT system site packages,
installs torch==2.13.0 first (pip takes the local CPU wheel, as .ci/run
does; any other torch spec would download GBs), then the wheel (its other
requirements from the package index), and loads and runs it from a
directory outside the checkout with no PYTHONPATH.

Takes a few minutes (mostly pip). It runs by default; set
SPACY_CLUENER_SKIP_CLEAN_INSTALL=1 only where pip cannot reach a package index.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import REPO
from .conftest import TRAIN_DATA, ents
from .test_predict_anything import ODD_TEXTS

pytestmark = pytest.mark.skipif(
    os.environ.get("SPACY_CLUENER_SKIP_CLEAN_INSTALL") == "1",
    reason="SPACY_CLUENER_SKIP_CLEAN_INSTALL=1: no package index to install from",
)

CHECK = r"""
import json, sys
import spacy
nlp = spacy.load("zh_cluener_crf")  # crf_ner found through the wheel's entry points
import spacy_cluener, zh_cluener_crf, torch
texts = json.loads(sys.stdin.read())
print(json.dumps({
    "spacy_cluener": spacy_cluener.__file__,
    "model_package": zh_cluener_crf.__file__,
    "torch": torch.__version__,
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
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    timings[label] = time.perf_counter() - start
    assert proc.returncode == 0, f"{label} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_wheel_alone_in_a_clean_venv(cnn_nlp, cnn_model_dir, tmp_path):
    timings = {}
    # 1.7 GB (torch) in 44,000 files: not deleted here, where removing freshly
    # written files took 85 s; pytest keeps the tmp dirs of the last 3 runs only.
    venv = tmp_path / "venv"
    work = tmp_path / "outside"  # not inside the checkout: nothing to import by accident
    work.mkdir()
    assert REPO not in work.resolve().parents

    run([sys.executable, str(REPO / "scripts" / "package.py"), str(cnn_model_dir), str(tmp_path / "packages"),
         "--name", "cluener_crf", "--version", "0.1.0"], timings, "package", cwd=REPO)
    wheels = list((tmp_path / "packages" / "zh_cluener_crf-0.1.0" / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels

    run([sys.executable, "-m", "venv", str(venv)], timings, "venv", cwd=work, env=clean_env(venv))
    python = str(venv / "bin" / "python")
    env = clean_env(venv)
    cfg = run([python, "-c", "import sys; print(sys.prefix != sys.base_prefix); import site; "
               "print(any('site-packages' in p and not p.startswith(sys.prefix) for p in sys.path))"],
              timings, "probe", cwd=work, env=env)
    assert cfg.stdout.split() == ["True", "False"], "the venv sees system site-packages"
    run([python, "-m", "pip", "install", "-q", "torch==2.13.0"], timings, "pip torch", cwd=work, env=env)
    run([python, "-m", "pip", "install", "-q", str(wheels[0])], timings, "pip wheel+deps", cwd=work, env=env)

    texts = [t for t, _ in TRAIN_DATA] + [ODD_TEXTS[k] for k in ("empty", "emoji", "mixed scripts", "control characters")]
    proc = run([python, "-c", CHECK], timings, "load+predict", cwd=work, env=env, input=json.dumps(texts))
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    venv_root = venv.resolve()
    for key in ("spacy_cluener", "model_package"):
        path = Path(out[key]).resolve()
        assert venv_root in path.parents, f"{key} imported from {path}, not from the venv"
        assert REPO not in path.parents
    assert out["torch"] == "2.13.0+cpu"
    assert out["pipe_names"] == ["tok2vec", "crf_ner"]
    for text, (_, gold), pred in zip(texts, TRAIN_DATA, out["ents"]):
        assert [tuple(e[:3]) for e in pred] == gold
    for text, pred in zip(texts, out["ents"]):
        for start, end, _, surface in pred:
            assert 0 <= start < end <= len(text) and text[start:end] == surface
    # the installed wheel predicts exactly what the checkout's pipeline does
    assert [[tuple(e[:3]) for e in p] for p in out["ents"]] == [ents(d) for d in cnn_nlp.pipe(texts)]

    # and the predict CLI ships inside the wheel
    inp = work / "in.json"
    inp.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)),
                   encoding="utf-8")
    run([python, "-m", "spacy_cluener", "predict", "zh_cluener_crf", str(inp), str(work / "pred.json")],
        timings, "predict CLI", cwd=work, env=env)
    lines = [json.loads(line) for line in (work / "pred.json").read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {"id": 0, "label": {"name": {"张三": [[0, 1]]}, "address": {"上海": [[3, 4]]}}}

    print("clean-room install timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
