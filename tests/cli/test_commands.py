"""What every command shares: one-line errors for a GPU that is not there,
for a pipeline without a transformer (debug-alignment), and refusal to
overwrite its input."""
import json

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_cluener.cli import app

from ..util import rec, write_jsonl

runner = CliRunner()


@pytest.fixture
def gold(tmp_path):
    nlp = spacy.blank("zh")
    doc = nlp("张三在北京")
    doc.ents = [doc.char_span(0, 2, "name"), doc.char_span(3, 5, "address")]
    path = tmp_path / "gold.spacy"
    DocBin(docs=[doc]).to_disk(path)
    return path


def one_line_error(result):
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    return [line for line in result.output.splitlines() if line.strip()]


@pytest.mark.parametrize("command", ["report", "predict", "debug-alignment"])
def test_gpu_id_without_cupy_is_one_line(command, ruler_model, gold, tmp_path):
    try:
        import cupy  # noqa: F401

        pytest.skip("CuPy is installed")
    except ImportError:
        pass
    args = {
        "report": ["report", ruler_model, gold, "--output", tmp_path / "r"],
        "predict": ["predict", ruler_model, write_jsonl(tmp_path / "in.json", [{"text": "张三"}]), tmp_path / "o.json"],
        "debug-alignment": ["debug-alignment", ruler_model, gold],
    }[command]
    result = runner.invoke(app, [*map(str, args), "--gpu-id", "0"])
    lines = one_line_error(result)
    assert lines == [lines[0]] and lines[0].startswith("Cannot use GPU 0:"), result.output


def test_debug_alignment_without_a_transformer_is_one_line(ruler_model, gold):
    result = runner.invoke(app, ["debug-alignment", str(ruler_model), str(gold)])
    lines = one_line_error(result)
    assert len(lines) == 1 and "has no transformer component" in lines[0], result.output


@pytest.mark.parametrize("spelling", ["same", "dot", "symlink"])
def test_convert_and_predict_refuse_to_overwrite_their_input(spelling, ruler_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = rec("张三", {"name": {"张三": [[0, 1]]}})
    src = tmp_path / "same.json"
    src.write_text(line + "\n", encoding="utf-8")
    if spelling == "symlink":
        (tmp_path / "link.json").symlink_to(src)
    out = {"same": "same.json", "dot": "./same.json", "symlink": "link.json"}[spelling]
    for args in (["convert", "same.json", out, "--format", "cluener"], ["predict", str(ruler_model), "same.json", out]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        assert "is the input file" in result.output
        assert src.read_text(encoding="utf-8") == line + "\n"
        json.loads(src.read_text(encoding="utf-8"))
