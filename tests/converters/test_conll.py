import time

import pytest

from spacy_cluener.converters import ConversionReport, read_conll


def convert(path, vocab, scheme="BIO"):
    report = ConversionReport(str(path))
    docs = list(read_conll(str(path), vocab, scheme, report))
    assert report.read == report.written + len(report.rejected)
    return docs, report


def ents(doc):
    return [(e.text, e.label_) for e in doc.ents]


def test_bio_with_tabs_and_spaces(tmp_path, nlp):
    path = tmp_path / "a.txt"
    path.write_text("中\tB-ORG\n共\tI-ORG\n致\tO\n\n张 B-PER\n三   I-PER\n", encoding="utf8")
    docs, report = convert(path, nlp.vocab)
    assert [d.text for d in docs] == ["中共致", "张三"]
    assert ents(docs[0]) == [("中共", "ORG")] and ents(docs[1]) == [("张三", "PER")]


@pytest.mark.parametrize(
    "scheme,tags",
    [
        ("BIO", ["B-LOC", "I-LOC", "I-LOC", "O", "B-PER"]),
        ("BIOES", ["B-LOC", "I-LOC", "E-LOC", "O", "S-PER"]),
        ("BMES", ["B-LOC", "M-LOC", "E-LOC", "O", "S-PER"]),
    ],
)
def test_schemes_give_the_same_entities(tmp_path, nlp, scheme, tags):
    path = tmp_path / f"{scheme}.txt"
    path.write_text("".join(f"{c}\t{t}\n" for c, t in zip("上海市的李", tags)), encoding="utf8")
    docs, _ = convert(path, nlp.vocab, scheme)
    assert ents(docs[0]) == [("上海市", "LOC"), ("李", "PER")]


def test_orphan_inside_starts_entity_and_is_noted(tmp_path, nlp):
    path = tmp_path / "o.txt"
    path.write_text("张\tI-PER\n三\tI-PER\n和\tO\n四\tI-PER\n", encoding="utf8")
    docs, report = convert(path, nlp.vocab)
    assert ents(docs[0]) == [("张三", "PER"), ("四", "PER")]
    assert [line for line, _ in report.notes] == [1, 4]


@pytest.mark.parametrize(
    "content,scheme,bad_line,reason",
    [
        ("上\tB-LOC\n海\n", "BIO", 2, "no tag"),
        ("上\tB-LOC\n海\tX-LOC\n", "BIO", 2, "unknown tag"),
        ("上\tB-LOC\n海\tE-LOC\n", "BIO", 2, "unknown tag"),
        ("上\tB-LOC\n海\tO\n", "BIOES", 2, "illegal BIOES sequence B-LOC -> O"),
        ("上\tE-LOC\n", "BMES", 1, "illegal BMES sequence <start> -> E-LOC"),
        ("\tO\n", "BIO", 1, "no token"),
    ],
)
def test_malformed_sentences_are_rejected_with_line(tmp_path, nlp, content, scheme, bad_line, reason):
    path = tmp_path / "bad.txt"
    good = "北\tB-LOC\n京\tI-LOC\n" if scheme == "BIO" else "北\tB-LOC\n京\tE-LOC\n"
    path.write_text(good + "\n" + content + "\n" + good, encoding="utf8")
    docs, report = convert(path, nlp.vocab, scheme)
    assert len(docs) == 2
    assert len(report.rejected) == 1
    line, message = report.rejected[0]
    assert line == bad_line + 3 or f"line {bad_line + 3}" in message
    assert reason in message


def test_bom_crlf_trailing_blank_lines(tmp_path, nlp):
    path = tmp_path / "crlf.txt"
    path.write_bytes("\ufeff北\tB-LOC\r\n京\tI-LOC\r\n\r\n\r\n\r\n".encode("utf8"))
    docs, report = convert(path, nlp.vocab)
    assert report.read == 1 and ents(docs[0]) == [("北京", "LOC")]


def test_real_msra_test_counts(data_dir, nlp):
    start = time.perf_counter()
    docs, report = convert(data_dir / "msra" / "test.txt", nlp.vocab)
    assert report.read == report.written == 4631
    assert sum(len(d) for d in docs) == 172601
    # 6,181 B- tags plus the 11 sentences that start inside a PER name (README)
    assert sum(len(d.ents) for d in docs) == 6181 + 11
    assert len(report.notes) == 11
    print(f"msra test: {172601 / (time.perf_counter() - start):.0f} chars/s")


def test_tab_mode_strips_spaces_around_tokens_and_trailing_tabs(tmp_path, nlp):
    """`张 \tB-PER` is the token 张 (not '张 '), and a trailing TAB or space
    after the tag does not reject the line."""
    path = tmp_path / "tabs.txt"
    path.write_text("张 \tB-PER\n三\tI-PER\t\n在\tO \n北 \tB-LOC\t \n京\tI-LOC\n", encoding="utf8")
    docs, report = convert(path, nlp.vocab)
    assert not report.rejected, report.rejected
    assert docs[0].text == "张三在北京" and [t.text for t in docs[0]] == list("张三在北京")
    assert ents(docs[0]) == [("张三", "PER"), ("北京", "LOC")]


def test_o_with_a_label_is_rejected_not_read_as_o(tmp_path, nlp):
    path = tmp_path / "o.txt"
    path.write_text("张\tO-PER\n三\tO\n\n李\tB-PER\n四\tI-PER\n", encoding="utf8")
    docs, report = convert(path, nlp.vocab)
    assert report.rejected == [(1, "line 1: unknown tag 'O-PER' for the BIO scheme")]
    assert [ents(d) for d in docs] == [[("李四", "PER")]]


@pytest.mark.parametrize("lines", [["张三\tB-PER", "在\tO", "上海\tB-LOC"], ["张 三\tB-PER", "在\tO"]])
def test_tokens_of_several_characters_are_noted_once_per_file(tmp_path, nlp, lines):
    # a word-segmented file (or a token with a space inside) is not one character per line
    path = tmp_path / "w.txt"
    path.write_text("\n".join(lines) + "\n\n李\tB-PER\n四\tI-PER\n", encoding="utf8")
    docs, report = convert(path, nlp.vocab)
    assert report.rejected == [] and len(docs) == 2
    assert [line for line, _ in report.notes] == [1]
    token = lines[0].split("\t")[0]
    assert f"token {token!r} has {len(token)} characters" in report.notes[0][1]
    assert ("1 more token(s)" in report.notes[0][1]) == (len(lines) == 3)



@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_gets_the_hint_and_its_sentences_counted(tmp_path, nlp, encoding):
    path = tmp_path / "u16.txt"
    path.write_bytes("张\tB-PER\n三\tI-PER\n\n北\tB-LOC\n京\tI-LOC\n\n在\tO\n".encode(encoding))
    docs, report = convert(path, nlp.vocab)
    assert (report.read, report.written) == (3, 0)
    assert [line for line, _ in report.rejected] == [1, 4, 7]
    assert all("the file looks like UTF-16" in reason for _, reason in report.rejected)
