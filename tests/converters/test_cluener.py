import json

import pytest

from spacy_cluener.converters import ConversionReport, read_cluener

from ..util import rec


def write_lines(path, lines, encoding="utf-8", newline="\n"):
    path.write_bytes(newline.join(lines).encode(encoding) + newline.encode())
    return path


def convert(path, nlp):
    report = ConversionReport(str(path))
    docs = list(read_cluener(str(path), nlp, report))
    assert report.read == report.written + len(report.rejected)
    return docs, report


def test_entities_and_offsets(tmp_path, nlp):
    label = {"company": {"浙商银行": [[0, 3]]}, "name": {"叶老桂": [[9, 11]]}}
    path = write_lines(tmp_path / "a.json", [rec("浙商银行企业信贷部叶老桂博士", label)])
    docs, report = convert(path, nlp)
    assert [(e.text, e.label_) for e in docs[0].ents] == [("浙商银行", "company"), ("叶老桂", "name")]
    assert len(docs[0]) == len("浙商银行企业信贷部叶老桂博士")  # one token per character
    assert report.entities_read == report.entities_written == 2


def test_unlabelled_records_keep_id(tmp_path, nlp):
    path = write_lines(tmp_path / "test.json", [rec("四川敦煌学", id=0), rec("尼日利亚", id=1)])
    docs, report = convert(path, nlp)
    assert [d.user_data["id"] for d in docs] == [0, 1]
    assert all(len(d.ents) == 0 for d in docs)


@pytest.mark.parametrize(
    "line,reason",
    [
        ('{"text": "abc", ', "invalid JSON"),
        ('["text"]', "not a JSON object"),
        ('{"label": {}}', "missing 'text'"),
        (rec("北京", ["x"]), "'label' is not a mapping"),
        (rec("北京", {"address": ["北京"]}), "is not a mapping of entity"),
        (rec("北京", {"address": {"北京": [[0, 5]]}}), "outside the text"),
        (rec("北京", {"address": {"北京": [[1, 0]]}}), "reversed"),
        (rec("北京", {"address": {"北京": [[0]]}}), "not [start, end]"),
        (rec("北京市", {"address": {"北京": [[1, 2]]}}), "not '北京'"),
        (rec("a b北京", {"address": {" b": [[1, 2]]}}), "token boundaries"),
        ('{"id": 1e400, "text": "北京"}', "too large for a double"),
        ('{"id": -1e999, "text": "北京"}', "too large for a double"),
        ('{"id": NaN, "text": "北京"}', "NaN is not a JSON value"),
    ],
)
def test_malformed_records_are_rejected_with_line(tmp_path, nlp, line, reason):
    good = rec("上海", {"address": {"上海": [[0, 1]]}})
    path = write_lines(tmp_path / "bad.json", [good, line, good])
    docs, report = convert(path, nlp)
    assert len(docs) == 2
    assert len(report.rejected) == 1
    line_no, message = report.rejected[0]
    assert line_no == 2
    assert reason in message
    assert f"{path}:2: rejected:" in report.lines()[0]


def test_bom_crlf_and_blank_lines(tmp_path, nlp):
    lines = [rec("ＡＢＣ公司在北京😀", {"address": {"北京": [[6, 7]]}}), "", ""]
    path = write_lines(tmp_path / "bom.json", lines, encoding="utf-8-sig", newline="\r\n")
    docs, report = convert(path, nlp)
    assert report.read == 1 and report.written == 1
    assert [(e.text, e.label_) for e in docs[0].ents] == [("北京", "address")]
    assert docs[0].text == "ＡＢＣ公司在北京😀"


def test_overlapping_entities_are_reported_not_dropped_silently(tmp_path, nlp):
    text = "《招商银行：投资永隆银行浮亏逾百亿港元》"
    label = {"book": {text: [[0, len(text) - 1]]}, "company": {"招商银行": [[1, 4]], "永隆银行": [[8, 11]]}}
    docs, report = convert(write_lines(tmp_path / "n.json", [rec(text, label)]), nlp)
    assert [e.label_ for e in docs[0].ents] == ["book"]
    assert len(report.notes) == 2 and all("overlaps book" in n for _, n in report.notes)
    assert len(docs[0].spans["cluener"]) == 3
    assert report.entities_read == 3 and report.entities_written == 1


def test_real_dev_converts_completely(data_dir, nlp):
    docs, report = convert(data_dir / "cluener2020" / "dev.json", nlp)
    assert report.read == report.written == 1343
    assert not report.rejected
    assert sum(len(d.ents) for d in docs) == 3072
    # offsets survive: every entity's text is the annotated string
    for line, doc in zip((data_dir / "cluener2020" / "dev.json").open(encoding="utf8"), docs):
        record = json.loads(line)
        gold = {(s, e + 1, t) for t, m in record["label"].items() for v in m.values() for s, e in v}
        assert {(e.start_char, e.end_char, e.label_) for e in doc.ents} == gold


def test_an_entity_on_standalone_whitespace_is_kept_with_a_note(tmp_path, nlp):
    """Written as the user gave it, but with a note: crf_ner never puts a
    whitespace token of its own in an entity, so this gold cannot be
    predicted as it is (the docs audit: it was accepted without a word)."""
    lines = [rec("张三  王五", {"name": {"三  ": [[1, 3]]}}), rec(" 王五", {"name": {" 王": [[0, 1]]}}),
             rec("张三王五", {"name": {"张三": [[0, 1]]}})]
    docs, report = convert(write_lines(tmp_path / "w.json", lines), nlp)
    assert [[e.text for e in d.ents] for d in docs] == [["三  "], [" 王"], ["张三"]]
    assert [line for line, _ in report.notes] == [1, 2]
    assert all("starts or ends on whitespace" in note for _, note in report.notes)


def test_entities_read_counts_only_the_records_written(tmp_path, nlp):
    good = rec("上海", {"address": {"上海": [[0, 1]]}})
    # rejected at its second entity, after the first was counted
    bad = rec("北京上海", {"address": {"北京": [[0, 1]], "上海": [[0, 1]]}})
    path = write_lines(tmp_path / "e.json", [good, bad, good])
    docs, report = convert(path, nlp)
    assert (report.written, len(report.rejected)) == (2, 1)
    assert (report.entities_read, report.entities_written) == (2, 2)
