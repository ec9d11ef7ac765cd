"""Smaller bad-input cases: duplicate ids, NaN/Infinity, --max-notes -1,
-DOCSTART- lines, UTF-16 files."""
import pytest
import spacy
from typer.testing import CliRunner

from spacy_cluener.cli import app
from spacy_cluener.converters import ConversionReport, convert_file, read_conll

from ..util import rec, write_jsonl


def test_duplicate_ids_are_noted(tmp_path):
    inp = write_jsonl(tmp_path / "in.json", [rec("张三", id=1), rec("李四", id="1"), rec("王五", id=1)])
    _, report = convert_file(inp, "cluener")
    assert report.written == 3
    assert report.notes == [(3, "id 1 was already used on line 1")]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_rejected(tmp_path, ruler_model, constant):
    inp = tmp_path / "in.json"
    inp.write_text(f'{{"id": {constant}, "text": "张三"}}\n{{"id": 2, "text": "李四"}}\n', encoding="utf-8")
    _, report = convert_file(inp, "cluener")
    assert report.rejected == [(1, f"invalid JSON ({constant} is not a JSON value)")]
    out = tmp_path / "pred.json"
    result = CliRunner().invoke(app, ["predict", str(ruler_model), str(inp), str(out)])
    assert result.exit_code == 1 and f"{inp}:1: invalid JSON ({constant}" in result.output
    assert not out.exists()


def test_negative_max_notes_is_a_clear_error(tmp_path):
    inp = write_jsonl(tmp_path / "in.json", ["{bad", rec("张三")])
    result = CliRunner().invoke(app, ["convert", str(inp), str(tmp_path / "o.spacy"), "-f", "cluener", "--max-notes", "-1"])
    assert result.exit_code == 2
    assert "max-notes" in result.output and "greater than or equal to 0" in result.output
    assert "more lines" not in result.output


def test_docstart_line_is_skipped_with_a_note(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("-DOCSTART- -X- O O\n\n北\tB-LOC\n京\tI-LOC\n-DOCSTART-\tO\n张\tB-PER\n", encoding="utf8")
    report = ConversionReport(str(path))
    docs = list(read_conll(str(path), spacy.blank("zh").vocab, "BIO", report))
    assert [d.text for d in docs] == ["北京", "张"]
    assert [line for line, _ in report.notes] == [1, 5] and "-DOCSTART-" in report.notes[0][1]
    assert report.balanced


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_input_says_so(tmp_path, encoding):
    inp = tmp_path / "in.json"
    inp.write_bytes((rec("张三在北京") + "\n").encode(encoding))
    _, report = convert_file(inp, "cluener")
    assert report.written == 0 and report.rejected
    assert all("looks like UTF-16" in reason for _, reason in report.rejected), report.rejected
