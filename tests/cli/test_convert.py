import json

import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_cluener.cli import app

runner = CliRunner()


def test_convert_cluener_writes_docbin(tmp_path):
    src = tmp_path / "in.json"
    records = [
        {"text": "张三在上海", "label": {"name": {"张三": [[0, 1]]}, "address": {"上海": [[3, 4]]}}},
        {"text": "李四", "label": {"name": {"李四": [[0, 1]]}}},
    ]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf8")
    out = tmp_path / "out.spacy"
    result = runner.invoke(app, ["convert", str(src), str(out), "--format", "cluener"])
    assert result.exit_code == 0, result.output
    assert "read 2, written 2, rejected 0" in result.output
    docs = list(DocBin().from_disk(out).get_docs(spacy.blank("zh").vocab))
    assert [[(e.text, e.label_) for e in d.ents] for d in docs] == [
        [("张三", "name"), ("上海", "address")],
        [("李四", "name")],
    ]


def test_convert_rejects_with_file_line_and_exit_status(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("北\tB-LOC\n京\tI-LOC\n\n上\tB-LOC\n海\n\n", encoding="utf8")
    out = tmp_path / "out.spacy"
    result = runner.invoke(app, ["convert", str(src), str(out), "--format", "conll"])
    assert result.exit_code == 1
    assert f"{src}:5: rejected: line has a token but no tag" in result.output
    assert "read 2, written 1, rejected 1" in result.output
    assert not out.exists()
    result = runner.invoke(app, ["convert", str(src), str(out), "--format", "conll", "--skip-invalid"])
    assert result.exit_code == 0
    assert len(DocBin().from_disk(out)) == 1


def test_convert_unknown_scheme_is_a_usage_error(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("北\tB-LOC\n", encoding="utf8")
    result = runner.invoke(app, ["convert", str(src), str(tmp_path / "o.spacy"), "--format", "conll", "--scheme", "IOB2"])
    assert result.exit_code == 2


def test_convert_skip_invalid_fails_when_every_record_is_rejected(tmp_path):
    # a GBK file: every sentence is rejected; --skip-invalid must not write an
    # empty corpus with exit 0 (training would fail later, far from the cause)
    src = tmp_path / "gbk.txt"
    src.write_bytes("张\tB-PER\n三\tI-PER\n\n北\tB-LOC\n京\tI-LOC\n".encode("gbk"))
    out = tmp_path / "out.spacy"
    result = runner.invoke(app, ["convert", str(src), str(out), "--format", "conll", "--skip-invalid"])
    assert result.exit_code == 1
    assert "the file looks like GBK/GB18030" in result.output
    error = [line for line in result.output.splitlines() if "[E086]" in line]
    assert len(error) == 1 and str(src) in error[0] and "every one of the 2 records" in error[0]
    assert not out.exists()


def test_convert_json_array_is_one_error_not_a_rejection_per_line(tmp_path):
    records = [{"text": "张三在上海", "label": {"name": {"张三": [[0, 1]]}}}, {"text": "李四"}]
    doccano = [{"text": "张三在上海", "label": [[0, 2, "name"]]}]
    for fmt, data in (("cluener", records), ("doccano", doccano)):
        for indent in (2, None):  # pretty-printed, or all on one line
            src = tmp_path / f"{fmt}{indent}.json"
            src.write_text(json.dumps(data, ensure_ascii=False, indent=indent), encoding="utf-8-sig")
            out = tmp_path / "out.spacy"
            result = runner.invoke(app, ["convert", str(src), str(out), "--format", fmt, "--skip-invalid"])
            assert result.exit_code == 1
            assert result.output.strip().splitlines() == [result.output.strip()]  # one line
            assert f"[E087] {src}:1: not" in result.output and "JSON array" in result.output
            assert not out.exists()
