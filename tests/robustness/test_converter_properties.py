"""Property-based tests of the converters (hypothesis).

1. Random CLUENER-like records (Chinese, Latin, digits, full-width, emoji,
   U+FFFD, spaces) with random valid non-overlapping entities convert without
   loss and their character offsets survive a DocBin round trip exactly.
2. Random mixtures of valid records, invalid records and blank lines:
   read == written + rejected, every valid record is written (in order), and
   exactly the invalid lines are rejected.
3. Random CoNLL sentences in BIOES, some with a broken line: each broken
   sentence is rejected at that line, the others keep their entities.
"""
import json
import uuid

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.tokens import DocBin

from spacy_cluener.converters import ConversionReport, read_cluener, read_conll

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
NLP = spacy.blank("zh")
VOCAB = spacy.blank("zh").vocab
LABELS = ["name", "address", "company", "game", "organization", "movie", "book", "position", "scene", "government"]

CHARS = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),  # CJK ext. B (astral)
    st.sampled_from(list("abcXYZ019，。！？、《》“”()-_/@#")),
    st.sampled_from(list("ＡＢＣａｂｃ０１２３")),  # full width
    st.sampled_from(["😀", "👍", "\U0001F1E8", "\U0001F1F3", "\u200d", "\ufe0f", "\ufffd", "\u200b", "\x00", "\x1b"]),
    st.sampled_from([" ", " ", "\u3000", "\t", "\n", "\xa0"]),  # whitespace inside the text
)
TEXTS = st.text(CHARS, min_size=0, max_size=60)


@st.composite
def records(draw):
    """(text, [(start, end_exclusive, label)]) with entities that do not overlap
    and neither start nor end on whitespace (CLUENER entities never do)."""
    text = draw(TEXTS)
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=12)))
    spans = []
    for start, end in zip(cuts[::2], cuts[1::2]):
        if text[start].isspace() or text[end - 1].isspace():
            continue
        spans.append((start, end, draw(st.sampled_from(LABELS))))
    return text, spans


def to_line(text, spans, **extra):
    label = {}
    for start, end, typ in spans:
        label.setdefault(typ, {}).setdefault(text[start:end], []).append([start, end - 1])
    return json.dumps({"text": text, "label": label, **extra}, ensure_ascii=use_escapes(text))


def use_escapes(text):
    # both spellings of the same JSON: raw UTF-8 and \\u escapes (with surrogate pairs)
    return len(text) % 2 == 1


def write(tmp_dir, lines, bom, newline, trailing):
    path = tmp_dir / f"{uuid.uuid4().hex}.json"
    data = newline.join(lines) + newline * trailing
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    return path


def convert_file(path, fmt, scheme="BIO"):
    """As `cli.convert.convert_file`, with one shared tokenizer (spacy.blank per
    example would dominate the run time)."""
    report = ConversionReport(str(path))
    if fmt == "cluener":
        docs = list(read_cluener(str(path), NLP, report))
    else:
        docs = list(read_conll(str(path), NLP.vocab, scheme, report))
    doc_bin = DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"], store_user_data=True, docs=docs)
    assert report.balanced, report.summary()
    return doc_bin, report


def reload(doc_bin):
    return list(DocBin().from_bytes(doc_bin.to_bytes()).get_docs(VOCAB))


@SETTINGS
@given(
    recs=st.lists(records(), min_size=1, max_size=8),
    bom=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    trailing=st.integers(0, 3),
)
def test_random_records_round_trip_offsets(tmp_path_factory, recs, bom, newline, trailing):
    tmp_dir = tmp_path_factory.getbasetemp()
    path = write(tmp_dir, [to_line(t, s, id=i) for i, (t, s) in enumerate(recs)], bom, newline, trailing)
    doc_bin, report = convert_file(path, "cluener")
    assert report.rejected == [] and report.notes == []
    assert report.read == report.written == len(recs)
    n_spans = sum(len(s) for _, s in recs)
    assert report.entities_read == report.entities_written == n_spans
    docs = reload(doc_bin)
    for i, ((text, spans), doc) in enumerate(zip(recs, docs)):
        assert doc.text == text
        assert doc.user_data["id"] == i
        assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == spans
        assert all(text[e.start_char : e.end_char] == e.text for e in doc.ents)
    path.unlink()


# Invalid records: each strategy draws a line that must be rejected.
def _bad_offsets(text_and_spans):
    text, _ = text_and_spans
    n = len(text)
    return st.sampled_from(
        [
            [n, n],  # past the end
            [-1, 0],
            [1, 0] if n > 1 else [n + 5, n + 6],  # reversed
            [0, n + 3],
        ]
    )


INVALID = st.one_of(
    st.text(st.sampled_from('{}[]":,ab1 '), min_size=1, max_size=20).filter(lambda s: s.strip() and _not_object(s)),
    st.builds(lambda t: json.dumps({"txt": t}, ensure_ascii=False), TEXTS),
    st.builds(lambda t, lab: json.dumps({"text": t, "label": lab}, ensure_ascii=False), TEXTS,
              st.one_of(st.lists(st.integers(), max_size=3), st.text(max_size=5), st.integers())),
    st.builds(lambda t: json.dumps({"text": t + "北京", "label": {"address": {"上海": [[len(t), len(t) + 1]]}}},
                                   ensure_ascii=False), TEXTS),  # span text != entity string
    records().filter(lambda r: r[0]).flatmap(
        lambda r: _bad_offsets(r).map(
            lambda offs: json.dumps({"text": r[0], "label": {"name": {r[0][:1]: [offs]}}}, ensure_ascii=False)
        )
    ),
    st.builds(lambda t: json.dumps({"text": t}, ensure_ascii=False)[:-2], TEXTS),  # truncated
)


def _json_array(lines):
    try:
        return isinstance(json.loads("\n".join(lines)), list)
    except ValueError:
        return False


def _not_object(s):
    try:
        return not isinstance(json.loads(s), dict)
    except ValueError:
        return True


ITEMS = st.lists(
    st.one_of(
        records().map(lambda r: ("valid", r)),
        INVALID.map(lambda line: ("invalid", line)),
        st.sampled_from(["", " ", "\t", "\u3000"]).map(lambda line: ("blank", line)),
    ),
    max_size=25,
)


@SETTINGS
@given(items=ITEMS, bom=st.booleans(), newline=st.sampled_from(["\n", "\r\n"]))
def test_random_mixtures_of_valid_and_invalid_lines(tmp_path_factory, items, bom, newline):
    lines = [to_line(*v) if kind == "valid" else v for kind, v in items]
    path = write(tmp_path_factory.getbasetemp(), lines, bom, newline, 1)
    if _json_array(lines):  # the whole file is one JSON array (e.g. only "[]"), not JSON lines
        with pytest.raises(ValueError, match="E087"):
            convert_file(path, "cluener")
        return
    doc_bin, report = convert_file(path, "cluener")
    valid = [v for kind, v in items if kind == "valid"]
    invalid_lines = [i for i, (kind, _) in enumerate(items, start=1) if kind == "invalid"]
    assert report.read == report.written + len(report.rejected) == len(valid) + len(invalid_lines)
    assert [line for line, _ in report.rejected] == invalid_lines
    assert all(reason for _, reason in report.rejected)
    docs = reload(doc_bin)
    assert [(d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents]) for d in docs] == valid
    path.unlink()


# CoNLL: random sentences, some with a broken line, in the BIOES scheme.
@st.composite
def conll_sentence(draw):
    """(lines, expected_ents, bad_line_index or None)."""
    chars = draw(st.lists(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF) | st.sampled_from(list("ab1😀，")),
                          min_size=1, max_size=15))
    tags = ["O"] * len(chars)
    ents = []
    i = 0
    while i < len(chars):
        if draw(st.booleans()):
            n = draw(st.integers(1, min(4, len(chars) - i)))
            label = draw(st.sampled_from(["PER", "LOC", "ORG"]))
            tags[i : i + n] = [f"S-{label}"] if n == 1 else [f"B-{label}"] + [f"I-{label}"] * (n - 2) + [f"E-{label}"]
            ents.append(("".join(chars[i : i + n]), label))
            i += n
        i += 1
    sep = draw(st.sampled_from(["\t", " ", "  "]))
    lines = [f"{c}{sep}{t}" for c, t in zip(chars, tags)]
    bad = None
    if draw(st.booleans()):
        bad = draw(st.integers(0, len(lines) - 1))
        lines[bad] = draw(st.sampled_from([chars[bad], f"{chars[bad]}\tQ-PER", f"{chars[bad]}\tM-LOC", "\tO"]))
    return lines, ents, bad


@SETTINGS
@given(sents=st.lists(conll_sentence(), min_size=1, max_size=10), blank=st.sampled_from(["", " ", "\t"]))
def test_random_conll_sentences(tmp_path_factory, sents, blank):
    out, expected_bad, line_no = [], [], 0
    for lines, _, bad in sents:
        if bad is not None:
            expected_bad.append(line_no + bad + 1)
        out.extend(lines + [blank])
        line_no += len(lines) + 1
    path = tmp_path_factory.getbasetemp() / f"{uuid.uuid4().hex}.txt"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    doc_bin, report = convert_file(path, "conll", "BIOES")
    assert report.read == len(sents) == report.written + len(report.rejected)
    assert len(report.rejected) == len(expected_bad)
    for (line, msg), bad_line in zip(report.rejected, expected_bad):
        assert line == bad_line or f"line {bad_line}:" in msg, (line, msg, bad_line)
    docs = reload(doc_bin)
    assert [[(e.text, e.label_) for e in d.ents] for d in docs] == [ents for _, ents, bad in sents if bad is None]
    path.unlink()
