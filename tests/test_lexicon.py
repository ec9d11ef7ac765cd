"""spacy_cluener.lexicon: reading jieba-format dictionaries and matching them in text."""
import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spacy_cluener.lexicon import (
    DEFAULT_USER_FREQ,
    POS_CLASSES,
    Lexicon,
    entity_wordlist,
    jieba_dictionary_path,
    pos_class,
    read_dictionary,
    text_codes,
)


def brute_force(words, text, max_length):
    """Every (start, end, word) of `words` in `text`, by checking every substring."""
    return sorted((i, j, text[i:j]) for i in range(len(text)) for j in range(i + 1, min(len(text), i + max_length) + 1)
                  if text[i:j] in words)


def lexicon_of(words, max_length=8):
    return Lexicon(((w, 10.0, 0, False) for w in words), max_length=max_length)


@settings(max_examples=200, deadline=None)
@given(
    words=st.sets(st.text(alphabet="上海北京市天安门张三a😀", min_size=1, max_size=6), max_size=20),
    text=st.text(alphabet="上海北京市天安门张三a😀 ", max_size=40),
    max_length=st.integers(1, 6),
)
def test_match_finds_exactly_the_dictionary_words(words, text, max_length):
    lexicon = lexicon_of(words, max_length)
    assert lexicon.find(text) == brute_force({w for w in words if len(w) <= max_length}, text, max_length)


def test_match_uses_the_keys_of_hash_codes():
    """`match` builds each length's keys from the previous length's (issue
    27); they are the keys `hash_codes` gives, which the index was built with."""
    from spacy_cluener.lexicon import hash_codes

    text = "中华人民共和国主席江泽民在北京会见了上海代表团"
    words = {text[i:j] for i in range(len(text)) for j in range(i + 1, min(len(text), i + 8) + 1)}
    lexicon = lexicon_of(words)
    codes = text_codes(text)
    starts, lengths, found = lexicon.match(codes, numpy.full(len(codes), len(codes)))
    for length in range(1, 9):
        keys = hash_codes(codes, length)
        chosen = lengths == length
        assert sorted(starts[chosen].tolist()) == list(range(len(keys)))
        assert set(lexicon.keys[found[chosen]].tolist()) == set(keys.tolist())


def test_matches_never_cross_documents():
    lexicon = lexicon_of(["上海", "海北", "北京"])
    texts = ["上海", "北京"]
    codes = numpy.concatenate([text_codes(t) for t in texts])
    ends = numpy.asarray([2, 2, 4, 4])
    starts, lengths, words = lexicon.match(codes, ends)
    found = sorted((int(s), int(s + n), lexicon.words[w]) for s, n, w in zip(starts, lengths, words))
    assert found == [(0, 2, "上海"), (2, 4, "北京")]  # not 海北 across the boundary


def test_empty_lexicon_and_empty_text():
    assert lexicon_of([]).find("上海") == []
    assert lexicon_of(["上海"]).find("") == []


def test_words_longer_than_max_length_are_left_out_and_counted():
    lexicon = lexicon_of(["上海", "上海市人民政府"], max_length=4)
    assert lexicon.words == ["上海"] and lexicon.n_too_long == 1


def test_bytes_round_trip():
    lexicon = Lexicon([("上海", 5.0, pos_class("ns"), False), ("张三", 7.0, pos_class("nr"), True)], max_length=5)
    loaded = Lexicon().from_bytes(lexicon.to_bytes())
    assert loaded.words == lexicon.words and loaded.max_length == 5
    assert loaded.freqs.tolist() == [5.0, 7.0] and loaded.user.tolist() == [False, True]
    assert [POS_CLASSES[c] for c in loaded.classes] == ["place", "person"]
    assert loaded.find("张三在上海") == [(0, 2, "张三"), (3, 5, "上海")]


@pytest.mark.parametrize("tag,name", [("nr", "person"), ("nrt", "person"), ("nrfg", "person"), ("ns", "place"),
                                      ("nt", "organisation"), ("nz", "proper"), ("n", "noun"), ("vn", "verb"),
                                      ("x", "other"), (None, "other")])
def test_pos_classes(tag, name):
    assert POS_CLASSES[pos_class(tag)] == name


def test_read_dictionary_jieba_format(tmp_path):
    path = tmp_path / "user.txt"
    path.write_text("\ufeff# my words\n浙商银行 20 nt\n叶老桂 nr\n\n云计算\n", encoding="utf8")
    assert list(read_dictionary(path, user=True)) == [
        ("浙商银行", 20.0, pos_class("nt"), True),
        ("叶老桂", float(DEFAULT_USER_FREQ), pos_class("nr"), True),
        ("云计算", float(DEFAULT_USER_FREQ), 0, True),
    ]


def test_user_dictionary_entries_win(tmp_path):
    main = tmp_path / "main.txt"
    main.write_text("上海 100 ns\n", encoding="utf8")
    user = tmp_path / "user.txt"
    user.write_text("上海 3 nt\n", encoding="utf8")
    lexicon = Lexicon.from_files(str(main), [str(user)], max_length=8)
    assert lexicon.words == ["上海"] and lexicon.freqs.tolist() == [3.0] and lexicon.user.tolist() == [True]
    assert POS_CLASSES[lexicon.classes[0]] == "organisation"


def test_bad_dictionary_line_names_file_and_line(tmp_path):
    path = tmp_path / "user.txt"
    path.write_text("上海 100 ns\n   \n上海 -5\n", encoding="utf8")
    with pytest.raises(ValueError, match=r"user\.txt:3: not a dictionary line"):
        list(read_dictionary(path, user=True))


def test_missing_dictionary_file(tmp_path):
    with pytest.raises(ValueError, match="E043"):
        Lexicon.from_files(str(tmp_path / "nope.txt"), [], 8)
    with pytest.raises(ValueError, match="E043"):
        Lexicon.from_files(None, [str(tmp_path / "nope.txt")], 8)


def test_jieba_dictionary():
    lexicon = Lexicon.from_files("jieba", [], max_length=8)
    assert jieba_dictionary_path().name == "dict.txt"
    assert len(lexicon) > 300_000
    words = {w for _, _, w in lexicon.find("浙商银行企业信贷部叶老桂博士")}
    assert {"银行", "信贷部", "博士"} <= words
    assert POS_CLASSES[lexicon.classes[lexicon.words.index("北京")]] == "place"


def test_jieba_dictionary_without_jieba(monkeypatch):
    import spacy_cluener.lexicon as lexicon_module

    monkeypatch.setattr(lexicon_module, "find_spec", lambda name: None)
    with pytest.raises(ValueError, match="E040.*pip install jieba"):
        Lexicon.from_files("jieba", [], max_length=8)


def test_entity_wordlist_counts_every_entity(tmp_path):
    entities = [("浙商银行", "company"), ("叶老桂", "name"), ("浙商银行", "organization"),
                ("北京 朝阳", "address"), ("#1", "game"), ("", "game"), ("《魔兽》", "game")]
    lines, counts = entity_wordlist(entities, {"company": "nt", "name": "nr"}, default_tag="nz")
    # first occurrence's label; other labels get the default tag; sorted by word
    assert lines == ["《魔兽》 nz", "叶老桂 nr", "浙商银行 nt"]
    assert counts["entities"] == 7 and counts["written"] == 3 and counts["duplicates"] == 1
    rejected = sum(v for k, v in counts.items() if k.startswith("rejected"))
    assert counts["entities"] == counts["written"] + counts["duplicates"] + rejected == 3 + 1 + 3
    path = tmp_path / "user.txt"
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf8")
    assert [(w, POS_CLASSES[c]) for w, _, c, _ in read_dictionary(path, user=True)] == [
        ("《魔兽》", "proper"), ("叶老桂", "person"), ("浙商银行", "organisation")]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="上海#1 a.\t", min_size=1, max_size=5), max_size=20))
def test_entity_wordlist_lines_read_back_as_the_same_words(tmp_path_factory, texts):
    lines, counts = entity_wordlist([(t, "X") for t in texts], {})
    path = tmp_path_factory.mktemp("wordlist") / "user.txt"
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf8")
    expected = sorted({t for t in texts if not any(c.isspace() for c in t) and not t.startswith("#")})
    assert [w for w, *_ in read_dictionary(path, user=True)] == expected
    assert counts["written"] == len(expected)


def test_entity_wordlist_rejects_a_tag_jieba_cannot_read():
    with pytest.raises(ValueError, match="tag 'n r'"):
        entity_wordlist([("上海", "LOC")], {"LOC": "n r"})


def test_dictionary_reads_what_jieba_reads(tmp_path):
    """Issue 24 #14: words with spaces, '#' starting a word, a BOM then spaces."""
    path = tmp_path / "user.txt"
    path.write_text("\ufeff  上海 10 ns\nNew York 10 ns\n#井号 10\n# a comment\n#\n", encoding="utf8")
    assert [(w, f, POS_CLASSES[c]) for w, f, c, _ in read_dictionary(path, user=True)] == [
        ("上海", 10.0, "place"), ("New York", 10.0, "place"), ("#井号", 10.0, "other")]
    lexicon = Lexicon.from_files(None, [str(path)], max_length=8)
    assert (0, 8, "New York") in lexicon.find("New York")


@pytest.mark.parametrize("line", ["上海 -5", "上海 1e39", "上海 东方 1,000 ns"])
def test_a_malformed_frequency_is_not_part_of_the_word(tmp_path, line):
    path = tmp_path / "user.txt"
    path.write_text(f"北京 3\n{line}\n", encoding="utf8")
    with pytest.raises(ValueError, match=r"user\.txt:2: not a dictionary line"):
        list(read_dictionary(path, user=True))


def test_frequency_float32_cannot_hold_names_file_and_line(tmp_path):
    """Issue 24 #3: 1e39 passed the float64 check and became inf (NaN weights)."""
    path = tmp_path / "user.txt"
    path.write_text("北京 3\n上海 " + "1" + "0" * 39 + " ns\n", encoding="utf8")
    with pytest.raises(ValueError, match=r"E042\].*user\.txt:2: dictionary word '上海'"):
        Lexicon.from_files(None, [str(path)], max_length=8)
    with pytest.raises(ValueError, match="E042"):
        Lexicon([("上海", 1e39, 0, True)])
    with pytest.raises(ValueError, match="E042"):
        Lexicon([("上海", float("nan"), 0, True)])


def test_frequency_zero_removes_the_word_as_in_jieba(tmp_path):
    """Issue 24 #14: frequency 0 gave the word a zero vector; jieba deletes it."""
    main = tmp_path / "main.txt"
    main.write_text("上海 100 ns\n北京 50 ns\n", encoding="utf8")
    user = tmp_path / "user.txt"
    user.write_text("上海 0\n天津 0\n", encoding="utf8")
    lexicon = Lexicon.from_files(str(main), [str(user)], max_length=8)
    assert lexicon.words == ["北京"]


def test_user_words_too_long_are_reported_once(tmp_path):
    """Issue 24 #4: words over max_word_length were dropped without a word."""
    path = tmp_path / "user.txt"
    path.write_text("上海 3\n中华人民共和国国务院 5 nt\n中华人民共和国外交部 5 nt\n", encoding="utf8")
    with pytest.warns(UserWarning, match=r"W004\] 2 user-dictionary word\(s\) longer than max_word_length=8"):
        lexicon = Lexicon.from_files(None, [str(path)], max_length=8)
    assert lexicon.words == ["上海"]


def test_a_dictionary_not_in_utf8_names_file_and_line(tmp_path):
    """Issue 24 #11: a GBK dictionary gave a bare UnicodeDecodeError."""
    path = tmp_path / "user.txt"
    path.write_bytes("上海 3\n".encode("utf8") + "北京 5 ns\n".encode("gbk"))
    with pytest.raises(ValueError, match=r"E039\] .*user\.txt:2: not UTF-8"):
        Lexicon.from_files(None, [str(path)], max_length=8)
