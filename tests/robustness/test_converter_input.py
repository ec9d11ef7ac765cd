"""Converter input nobody should have to clean by hand, and every kind of bad
record in one file: each rejected as FILE:LINE: reason, the rest converted.

(tests/converters has one bad record per file; here they are all together, and
through the CLI.)
"""
import json

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_cluener.cli import app
from spacy_cluener.converters import convert_file

from ..util import rec

runner = CliRunner()


def entity(text, ent_type, surface, occurrence=0):
    """A CLUENER label entry for the n-th occurrence of `surface` in `text`."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(surface, start + 1)
    return ent_type, surface, [start, start + len(surface) - 1]


def labelled(text, *entities):
    label = {}
    for ent_type, surface, offsets in entities:
        label.setdefault(ent_type, {}).setdefault(surface, []).append(offsets)
    return rec(text, label)


def reload(doc_bin):
    """DocBin -> bytes -> docs, as `spacy train` would read the corpus."""
    return list(DocBin().from_bytes(doc_bin.to_bytes()).get_docs(spacy.blank("zh").vocab))


def gold_offsets(line):
    record = json.loads(line)
    return sorted(
        (s, e + 1, t) for t, m in record.get("label", {}).items() for offs in m.values() for s, e in offs
    )


# Text a user gets from the web: emoji (astral, ZWJ sequence, flag), U+FFFD,
# full-width letters and digits, ASCII and ideographic spaces, Latin words,
# NUL and other control characters inside the text (JSON escapes).
MESSY_TEXTS = [
    ("😀张三👨‍👩‍👧在🇨🇳上海工作", [("name", "张三"), ("address", "上海")]),
    ("\ufffd\ufffd腾讯\ufffd发布了新游戏", [("company", "腾讯")]),
    ("ＡＢＣ公司１２３号，李四是ＣＥＯ", [("company", "ＡＢＣ公司"), ("name", "李四"), ("position", "ＣＥＯ")]),
    ("Hello world, 王五 went to New York 和 北京 today", [("name", "王五"), ("address", "New York"), ("address", "北京")]),
    ("  前导空格\u3000\u3000全角空格后的广州  ", [("address", "广州")]),
    ("tab\t分隔\t的 the Legend of Zelda 游戏", [("game", "the Legend of Zelda")]),
    ("控制\x00字符\x1b[0m后\u200b的天安门", [("scene", "天安门")]),
    ("中英mixed混排iPhone 15 Pro发布", [("game", "iPhone 15 Pro")]),
]


def messy_lines():
    return [labelled(t, *(entity(t, typ, s) for typ, s in ents)) for t, ents in MESSY_TEXTS]


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_messy_but_valid_text_converts_with_exact_offsets(tmp_path, bom, newline):
    lines = messy_lines()
    path = tmp_path / "messy.json"
    body = newline.join(lines) + newline * 4  # trailing blank lines
    path.write_bytes(("\ufeff" if bom else "").encode() + body.encode("utf-8"))
    doc_bin, report = convert_file(path, "cluener")
    assert report.rejected == [] and report.notes == []
    assert report.read == report.written == len(lines)
    docs = reload(doc_bin)
    for line, doc in zip(lines, docs):
        assert doc.text == json.loads(line)["text"]
        assert sorted((e.start_char, e.end_char, e.label_) for e in doc.ents) == gold_offsets(line)
        for ent in doc.ents:
            assert doc.text[ent.start_char : ent.end_char] == ent.text
    assert report.entities_read == report.entities_written == sum(len(e) for _, e in MESSY_TEXTS)


def test_bom_on_a_later_line_from_concatenated_files(tmp_path):
    part = rec("张三在北京", {"name": {"张三": [[0, 1]]}})
    path = tmp_path / "cat.json"
    path.write_bytes(("\ufeff" + part + "\r\n").encode() * 3)  # `cat a.json b.json c.json`
    doc_bin, report = convert_file(path, "cluener")
    assert report.written == 3 and not report.rejected
    assert [[(e.text, e.label_) for e in d.ents] for d in reload(doc_bin)] == [[("张三", "name")]] * 3


GOOD = rec("上海", {"address": {"上海": [[0, 1]]}})
# (raw line, reason) for every way a CLUENER record can be wrong
BAD_CLUENER = [
    ('{"text": "abc", ', "invalid JSON"),
    ("not json at all", "invalid JSON"),
    ("[" * 100_000, "invalid JSON (nested too deeply)"),
    ('"just a string"', "not a JSON object"),
    ("null", "not a JSON object"),
    ('{"label": {}}', "missing 'text'"),
    ('{"text": 42}', "missing 'text'"),
    ('{"text": null, "label": {}}', "missing 'text'"),
    (rec("北京", ["x"]), "'label' is not a mapping"),
    ('{"text": "北京", "label": "address"}', "'label' is not a mapping"),
    (rec("北京", {"address": ["北京"]}), "is not a mapping of entity"),
    (rec("北京", {"address": {"北京": [0, 1]}}), "not [start, end]"),
    (rec("北京", {"address": {"北京": [[0, 1, 2]]}}), "not [start, end]"),
    (rec("北京", {"address": {"北京": [[0.0, 1]]}}), "not [start, end]"),
    (rec("北京", {"address": {"北京": [[True, 1]]}}), "not [start, end]"),
    (rec("北京", {"address": {"北京": "0,1"}}), "are not a list"),
    (rec("北京", {"address": {"北京": [[0, 2]]}}), "outside the text"),
    (rec("北京", {"address": {"北京": [[-1, 0]]}}), "outside the text"),
    (rec("北京", {"address": {"北京": [[1, 0]]}}), "reversed"),
    (rec("北京市", {"address": {"北京": [[1, 2]]}}), "is '京市' in the text, not '北京'"),
    (rec("在北京", {"address": {"北京": [[0, 1]]}}), "not '北京'"),
    (rec("a 北京", {"address": {" 北京": [[1, 3]]}}), "token boundaries"),
    (rec("北京", {"": {"北京": [[0, 1]]}}), "empty string"),
    ('{"text": "\\ud83d\\u5f20\\u4e09"}', "'text' is not valid Unicode: '\\ud83d'"),
    ('{"text": "北京", "label": {"\\udc00": {"北京": [[0, 1]]}}}', "a label is not valid Unicode"),
    ('{"text": "北京", "id": "\\ud800"}', "'id' is not valid Unicode"),
    (b'{"text": "\xff\xfe\xe5\x8c"}', "'text' is not valid Unicode: '\\udcff'"),
    (b'{"text": \xa0"x"}', "invalid JSON"),
]


def write_mixed(path):
    """GOOD, then BAD_CLUENER interleaved with GOOD and blank lines; returns {line: reason}."""
    chunks, expected = [GOOD.encode()], {}
    for bad, reason in BAD_CLUENER:
        chunks.append(b"")  # a blank line, not a record
        chunks.append(bad if isinstance(bad, bytes) else bad.encode("utf-8"))
        expected[len(chunks)] = reason
        chunks.append(GOOD.encode())
    path.write_bytes(b"\r\n".join(chunks) + b"\r\n\r\n")
    return expected


def test_every_kind_of_bad_record_in_one_file(tmp_path):
    path = tmp_path / "mixed.json"
    expected = write_mixed(path)
    doc_bin, report = convert_file(path, "cluener")
    assert report.read == len(BAD_CLUENER) * 2 + 1
    assert report.written == len(BAD_CLUENER) + 1 == len(doc_bin)
    assert [line for line, _ in report.rejected] == list(expected)
    for (line, message), reason in zip(report.rejected, expected.values()):
        assert reason in message, (line, message)
    assert all(d.text == "上海" and [e.label_ for e in d.ents] == ["address"] for d in reload(doc_bin))
    for line_text, (line, _) in zip(report.lines(), report.rejected):
        assert line_text.startswith(f"{path}:{line}: rejected: ")
        line_text.encode("utf-8")  # printable: no lone surrogates in messages


def test_cli_reports_each_bad_record_and_writes_only_with_skip_invalid(tmp_path):
    path = tmp_path / "mixed.json"
    expected = write_mixed(path)
    out = tmp_path / "out.spacy"
    result = runner.invoke(app, ["convert", str(path), str(out), "--format", "cluener"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for line in expected:
        assert f"{path}:{line}: rejected: " in result.output
    n_good = len(BAD_CLUENER) + 1
    assert f"read {2 * len(BAD_CLUENER) + 1}, written {n_good}, rejected {len(BAD_CLUENER)}" in result.output
    assert "Nothing written" in result.output and not out.exists()
    result = runner.invoke(app, ["convert", str(path), str(out), "--format", "cluener", "--skip-invalid", "--max-notes", "3"])
    assert result.exit_code == 0, result.output
    assert f"... {len(BAD_CLUENER) - 3} more lines" in result.output
    assert len(DocBin().from_disk(out)) == n_good


GOOD_SENT = {"BIO": "北\tB-LOC\n京\tI-LOC\n", "BIOES": "北\tB-LOC\n京\tE-LOC\n"}
# (lines, offending line within them, reason, schemes where it is bad)
BAD_CONLL = [
    (["上\tB-LOC", "海"], 2, "token but no tag", ("BIO", "BIOES")),
    (["上 B-LOC", "海 "], 2, "token but no tag", ("BIO", "BIOES")),
    (["\tO"], 1, "tag but no token", ("BIO", "BIOES")),
    (["\u3000"], 1, "token but no tag", ("BIO", "BIOES")),
    (["上\tX-LOC"], 1, "unknown tag 'X-LOC'", ("BIO", "BIOES")),
    (["上\tB-"], 1, "unknown tag 'B-'", ("BIO", "BIOES")),
    (["上\tLOC"], 1, "unknown tag 'LOC'", ("BIO", "BIOES")),
    (["上\tS-LOC"], 1, "unknown tag 'S-LOC' for the BIO scheme", ("BIO",)),
    (["上\tM-LOC"], 1, "unknown tag 'M-LOC' for the BIOES scheme", ("BIOES",)),
    (["上\tB-LOC", "海\tO"], 2, "illegal BIOES sequence B-LOC -> O", ("BIOES",)),
    (["上\tI-LOC"], 1, "illegal BIOES sequence <start> -> I-LOC", ("BIOES",)),
    ([b"\xff\tO"], 1, "line is not valid Unicode", ("BIO", "BIOES")),
]


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
def test_conll_every_kind_of_bad_sentence_in_one_file(tmp_path, scheme):
    chunks, expected = [], {}
    line_no = 0

    def add(lines):
        nonlocal line_no
        chunks.extend(line if isinstance(line, bytes) else line.encode("utf-8") for line in lines)
        chunks.append(b"")
        start = line_no + 1
        line_no += len(lines) + 1
        return start

    add(GOOD_SENT[scheme].splitlines())
    bad_cases = [c for c in BAD_CONLL if scheme in c[3]]
    for lines, offending, reason, _ in bad_cases:
        start = add(lines)
        expected[start + offending - 1] = reason
        add(GOOD_SENT[scheme].splitlines())
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(chunks) + b"\r\n\r\n")
    doc_bin, report = convert_file(path, "conll", scheme)
    assert report.written == len(bad_cases) + 1 == len(doc_bin)
    assert len(report.rejected) == len(bad_cases)
    for (line, message), (bad_line, reason) in zip(report.rejected, expected.items()):
        # the line of the bad tag itself, in the message or as the location
        assert line == bad_line or f"line {bad_line}:" in message, (line, message, bad_line)
        assert reason in message, message
    assert all([(e.text, e.label_) for e in d.ents] == [("北京", "LOC")] for d in reload(doc_bin))
    result = runner.invoke(app, ["convert", str(path), str(tmp_path / "o.spacy"), "-f", "conll", "-s", scheme])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.count(": rejected: ") == len(bad_cases)


def test_empty_and_blank_only_files_convert_to_nothing(tmp_path):
    for name, content in [("empty.json", b""), ("blank.json", b"\xef\xbb\xbf\r\n \r\n\t\r\n")]:
        path = tmp_path / name
        path.write_bytes(content)
        doc_bin, report = convert_file(path, "cluener")
        assert report.read == report.written == 0 and len(doc_bin) == 0
