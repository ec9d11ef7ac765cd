"""Issue 24 #10: a usage error is one full line, whatever the terminal width
(typer's rich panel wrapped it over boxed lines at 80 columns)."""
import subprocess
import sys

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
