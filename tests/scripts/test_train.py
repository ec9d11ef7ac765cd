"""scripts/train.py: a budget stop is a normal stop, and the training log is
written whatever logger (chain) the config uses."""
import json
import signal
import subprocess
import sys

import pytest
import spacy
from spacy.tokens import DocBin

from ..util import REPO, cluener_slice

pytestmark = pytest.mark.slow  # scripts/train.py in subprocesses

SCRIPT = REPO / "scripts" / "train.py"
CONFIG = REPO / "configs" / "cnn_crf.cfg"
SMALL = [
    "--components.tok2vec.model.encode.width", "32",
    "--components.tok2vec.model.encode.depth", "1",
    "--components.tok2vec.model.embed.char_rows", "1000",
    "--components.tok2vec.model.embed.bigram_rows", "1000",
    "--training.eval_frequency", "5",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("train_corpus")
    return cluener_slice(data_dir, out, "train", 60), cluener_slice(data_dir, out, "dev", 30)


def train(out, corpus, *args):
    train_path, dev_path = corpus
    cmd = [sys.executable, str(SCRIPT), str(CONFIG), str(out), "--paths.train", str(train_path),
           "--paths.dev", str(dev_path), *SMALL, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def log_steps(out):
    return [json.loads(line)["step"] for line in (out / "training_log.jsonl").read_text().splitlines()]


def test_fixed_steps_with_a_log(tmp_path, corpus):
    proc = train(tmp_path, corpus, "--training.max_steps", "10")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert log_steps(tmp_path) == [0, 5, 10]
    assert (tmp_path / "model-best").is_dir() and (tmp_path / "model-last").is_dir()


def test_budget_stop_is_a_normal_stop(tmp_path, corpus):
    proc = train(tmp_path, corpus, "--max-seconds", "0.001", "--training.max_steps", "1000")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Aborting" not in output and "Traceback" not in output
    assert "Stopped by the time budget of 0s used at step" in proc.stdout
    assert (tmp_path / "model-last" / "meta.json").exists()


def test_log_is_kept_under_a_chain_logger(tmp_path, corpus):
    # How spacy-loggers (W&B, MLflow, ...) are added: the console logger inside a chain.
    chain = {
        "@loggers": "spacy.ChainLogger.v1",
        "logger1": {"@loggers": "spacy.ConsoleLogger.v1", "progress_bar": False},
    }
    proc = train(tmp_path, corpus, "--training.max_steps", "10", "--training.logger", json.dumps(chain))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert log_steps(tmp_path) == [0, 5, 10]


KILL_AT = """
import os, runpy, signal, sys
import spacy

@spacy.registry.callbacks("test.kill_at_step.v1")
def kill_at_step(step: int):
    def before_update(nlp, args):
        if args["step"] == step:
            os.kill(os.getpid(), signal.SIGKILL)
    return before_update

sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_a_killed_run_keeps_its_log(tmp_path, corpus):
    # spaCy's ConsoleLogger.v3 only flushed its file when training ended: a
    # run killed at step 12 left an empty training_log.jsonl.
    train_path, dev_path = corpus
    kill = json.dumps({"@callbacks": "test.kill_at_step.v1", "step": 12})
    cmd = [sys.executable, "-c", KILL_AT, str(SCRIPT), str(CONFIG), str(tmp_path), "--paths.train", str(train_path),
           "--paths.dev", str(dev_path), *SMALL, "--training.max_steps", "100", "--training.before_update", kill]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    assert log_steps(tmp_path) == [0, 5, 10]


def test_dev_without_entities_is_warned_about_once(tmp_path, corpus):
    # Three evaluations (steps 0, 5, 10), one warning (W003, issue 12).
    train_path, dev_path = corpus
    nlp = spacy.blank("zh")
    docs = list(DocBin().from_disk(dev_path).get_docs(nlp.vocab))
    for doc in docs:
        doc.ents = []
    DocBin(docs=docs).to_disk(tmp_path / "dev-no-ents.spacy")
    proc = train(tmp_path / "out", (train_path, tmp_path / "dev-no-ents.spacy"), "--training.max_steps", "10")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert log_steps(tmp_path / "out") == [0, 5, 10]
    assert output.count("[W003]") == 1, output
    assert f"The {len(docs)} example(s) being scored have no gold entities" in output
