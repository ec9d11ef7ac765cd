"""A record over `nlp.max_length` (1,000,000 characters) is one rejected
record, not an E088 traceback that aborts the whole conversion or prediction."""
import spacy
from typer.testing import CliRunner

from spacy_cluener.cli import app
from spacy_cluener.converters import ConversionReport, read_conll

from ..util import read_jsonl, rec, write_jsonl

TOO_LONG = "张" * 1_000_001


def test_convert_rejects_a_record_over_max_length(tmp_path):
    inp = write_jsonl(tmp_path / "in.json", [rec("张三在北京"), rec(TOO_LONG), rec("李四")])
    out = tmp_path / "out.spacy"
    result = CliRunner().invoke(app, ["convert", str(inp), str(out), "-f", "cluener", "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert f"{inp}:2: rejected: 'text' has 1000001 characters, more than nlp.max_length" in result.output
    assert "read 3, written 2, rejected 1" in result.output
    assert out.exists()


def test_conll_sentence_over_max_length_is_rejected(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("北\tB-LOC\n京\tI-LOC\n\n" + "".join(f"{c}\tO\n" for c in "一二三四五六") + "\n李\tB-PER\n", encoding="utf8")
    report = ConversionReport(str(path))
    docs = list(read_conll(str(path), spacy.blank("zh").vocab, "BIO", report, max_length=5))
    assert [d.text for d in docs] == ["北京", "李"]
    assert report.rejected == [(4, "the sentence has 6 characters, more than nlp.max_length (5), "
                                   "which spaCy refuses (E088): split it into shorter records, or raise the limit with "
                                   "--max-length (predict, annotate)")]
    assert report.balanced


def test_predict_text_over_max_length_is_file_line(ruler_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.json", [{"id": 0, "text": "张三"}, {"id": 1, "text": TOO_LONG}])
    out = tmp_path / "pred.json"
    result = CliRunner().invoke(app, ["predict", str(ruler_model), str(inp), str(out)])
    assert result.exit_code == 1
    assert f"{inp}:2: 'text' has 1000001 characters, more than nlp.max_length (1000000)" in result.output
    assert "--max-length" in result.output and "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_predict_max_length_option(ruler_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.json", [{"id": 0, "text": "张三在北京" * 4}])
    out = tmp_path / "pred.json"
    result = CliRunner().invoke(app, ["predict", str(ruler_model), str(inp), str(out), "--max-length", "10"])
    assert result.exit_code == 1 and f"{inp}:1:" in result.output
    result = CliRunner().invoke(app, ["predict", str(ruler_model), str(inp), str(out), "--max-length", "20"])
    assert result.exit_code == 0, result.output
    assert read_jsonl(out)[0]["label"]["name"] == {"张三": [[0, 1], [5, 6], [10, 11], [15, 16]]}
