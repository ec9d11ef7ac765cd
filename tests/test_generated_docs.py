"""The generated parts of the docs are what their generators give today: the
README's `spacy project document` block, docs/cli.md from the typer app, and
the results tables from benchmarks/results/*.json. Each failure names the
command that brings the file up to date."""
import shutil
import subprocess
import sys

import pytest
from weasel.cli.document import project_document

from .util import BENCHMARK_SCRIPTS, REPO

CLI_TITLE = "Command line: python -m spacy_cluener"


@pytest.mark.parametrize("project", [".", "benchmarks"])
def test_readme_project_block_is_up_to_date(project, tmp_path):
    root = REPO / project
    readme = tmp_path / "README.md"
    shutil.copy(root / "README.md", readme)
    project_document(root, readme, no_emoji=False)
    assert readme.read_text(encoding="utf8") == (root / "README.md").read_text(encoding="utf8"), (
        f"{project}/README.md is out of date: run python -m spacy project document {project} --output {project}/README.md"
    )


def test_cli_reference_is_up_to_date(tmp_path):
    out = tmp_path / "cli.md"
    subprocess.run([sys.executable, "-m", "typer", "spacy_cluener.cli", "utils", "docs", "--name",
                    "python -m spacy_cluener", "--title", CLI_TITLE, "--output", str(out)],
                   check=True, capture_output=True, cwd=REPO)
    assert out.read_text(encoding="utf8") == (REPO / "docs" / "cli.md").read_text(encoding="utf8"), (
        f'docs/cli.md is out of date: run python -m typer spacy_cluener.cli utils docs --name "python -m spacy_cluener" '
        f'--title "{CLI_TITLE}" --output docs/cli.md'
    )


def test_results_tables_are_up_to_date():
    proc = subprocess.run([sys.executable, str(BENCHMARK_SCRIPTS / "collate_results.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_is_short():
    # a newcomer reads it in five minutes; details go to docs/
    assert len((REPO / "README.md").read_text(encoding="utf8").splitlines()) <= 150
