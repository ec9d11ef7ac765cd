"""Issue 24 #10: a usage error is one full line, whatever the terminal width
(typer's rich panel wrapped it over boxed lines at 80 columns)."""
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from spacy_cluener.cli import app

from ..util import REPO

LONG = "a-directory-name-long-enough-to-wrap-at-eighty-columns-" * 2


def one_line_with(output: str, *parts: str) -> bool:
    return any(all(part in line for part in parts) for line in output.splitlines())


def test_app_usage_error_is_one_line(tmp_path):
    missing = tmp_path / LONG / "nope.json"
    result = CliRunner().invoke(app, ["convert", str(missing), str(tmp_path / "x.spacy")],
                                env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 2
    assert one_line_with(result.output, "Error:", str(missing), "does not exist")


def test_script_usage_error_is_one_line(tmp_path):
    missing = tmp_path / LONG / "train.spacy"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "split_corpus.py"), str(missing),
                           str(tmp_path / "train.spacy"), str(tmp_path / "dev.spacy")],
                          capture_output=True, text=True, env={"COLUMNS": "80"})
    assert proc.returncode == 2
    assert one_line_with(proc.stderr, "Error:", str(missing), "does not exist")


# Issue 24 #11: errors of the inputs or the machine are one line (exit 1), not a traceback.


def run_app(*args):
    return CliRunner().invoke(app, [*map(str, args)], env={"COLUMNS": "80"}, terminal_width=80)


def assert_one_line_error(output: str, *parts: str) -> None:
    assert "Traceback" not in output and "│" not in output, output
    assert one_line_with(output, *parts), output


def test_annotate_with_a_damaged_pipeline(crf_model, tmp_path):
    import shutil

    damaged = tmp_path / "damaged"
    shutil.copytree(crf_model, damaged)
    (damaged / "crf_ner" / "model").write_bytes(b"not msgpack")
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"text": "张三"}\n', encoding="utf-8")
    out = tmp_path / "out"
    result = run_app("annotate", damaged, inp, out)
    assert result.exit_code == 1
    assert_one_line_error(result.output, "[E017]", str(damaged / "crf_ner" / "model"))
    # a failed start leaves no plan, so the run with the good pipeline is not refused (E026)
    assert not (out / "_plan.json").exists()
    assert run_app("annotate", crf_model, inp, out).exit_code == 0


def test_annotate_output_dir_is_a_file(ruler_model, tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"text": "张三"}\n', encoding="utf-8")
    (tmp_path / "out").write_text("mine", encoding="utf-8")
    result = run_app("annotate", ruler_model, inp, tmp_path / "out")
    assert result.exit_code == 1
    assert_one_line_error(result.output, "[E054]", "is a file, not a directory")
    assert (tmp_path / "out").read_text(encoding="utf-8") == "mine"


def test_annotate_disk_full(ruler_model, tmp_path, monkeypatch):
    import errno

    from spacy_cluener.annotation import outputs

    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.tmp_path))

    monkeypatch.setattr(outputs.ShardWriter, "commit", full)
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"text": "张三"}\n', encoding="utf-8")
    result = run_app("annotate", ruler_model, inp, tmp_path / "out")
    assert result.exit_code == 1
    assert_one_line_error(result.output, "[Errno 28] No space left on device")


def test_report_given_json_instead_of_spacy(ruler_model, tmp_path):
    data = tmp_path / "dev.json"
    data.write_text('{"text": "张三", "label": {}}\n', encoding="utf-8")
    result = run_app("report", ruler_model, data, "--output", tmp_path / "report")
    assert result.exit_code == 1
    assert_one_line_error(result.output, str(data), "[E1014]")


def test_own_data_unknown_format(tmp_path):
    train = tmp_path / "train.txt"
    train.write_text("张\tB-PER\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "own_data.py"), str(train), "", str(train),
                           "--format", "xml", "--output-dir", str(tmp_path / "corpus")],
                          capture_output=True, text=True, env={"COLUMNS": "80"})
    assert proc.returncode == 1, proc.stderr
    assert_one_line_error(proc.stderr, "[E008]", "xml")


@pytest.mark.slow
def test_training_with_a_missing_user_dictionary(cluener_slices, tmp_path):
    """~200 lines of spaCy's training traceback before; now E043 on one line."""
    missing = tmp_path / "nope" / "dict.txt"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "train.py"), str(REPO / "configs" / "cnn_crf.cfg"),
                           str(tmp_path / "training"), "--paths.train", str(cluener_slices["train"]),
                           "--paths.dev", str(cluener_slices["dev"]), "--training.max_steps", "2",
                           "--components.tok2vec.model.embed.lexicon.user_dictionaries", f'["{missing}"]'],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"})
    assert proc.returncode == 1, proc.stderr
    assert_one_line_error(proc.stderr, "[E043]", str(missing))


def test_a_pipeline_that_cannot_load_shows_its_traceback_when_asked(tmp_path, monkeypatch):
    """docs/errors.md: SPACY_CLUENER_TRACEBACK=1 shows the traceback of a one-line
    error; a pipeline that cannot be loaded was one line even then (the audit)."""
    missing = str(tmp_path / "no-such-pipeline")
    args = ["predict", missing, str(tmp_path / "in.jsonl"), str(tmp_path / "out.jsonl")]
    (tmp_path / "in.jsonl").write_text('{"text": "张三"}\n', encoding="utf8")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and f"Cannot load the pipeline '{missing}'" in result.output
    monkeypatch.setenv("SPACY_CLUENER_TRACEBACK", "1")
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, OSError) and "E050" in str(result.exception)
