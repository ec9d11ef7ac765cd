"""spacy_cluener.SoftLexicon.v1: the B/M/E/S word sets of each character."""
import numpy
import pytest
import spacy
from thinc.api import fix_random_seed

from spacy_cluener.layers.soft_lexicon import N_ROLES, build_soft_lexicon, lexicon_entries
from spacy_cluener.lexicon import POS_CLASSES, Lexicon, text_codes

B, M, E, S = range(N_ROLES)


@pytest.fixture
def nlp():
    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})


@pytest.fixture
def dictionary(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text("上海 100 ns\n上海市 10 ns\n海 5 n\n张三 20 nr\n市 3 n\n", encoding="utf8")
    return path


def lexicon_model(dictionary, user=(), pos_classes=True, width=8):
    model = build_soft_lexicon(width=width, rows=100, max_word_length=4, dictionary=str(dictionary),
                               user_dictionaries=[str(p) for p in user], pos_classes=pos_classes)
    fix_random_seed(0)
    model.initialize()
    return model


def roles(lexicon, text):
    """{(char, role): {word: weight}} from lexicon_entries."""
    codes = text_codes(text)
    rows, idx, weight = lexicon_entries(lexicon, codes, numpy.full(len(codes), len(codes)))
    out = {}
    for r, i, w in zip(rows, idx, weight):
        out.setdefault((int(r) // N_ROLES, int(r) % N_ROLES), {})["NONE" if i < 0 else lexicon.words[i]] = float(w)
    return out


def test_sets_and_weights(dictionary):
    lexicon = Lexicon.from_files(str(dictionary), [], max_length=4)
    sets = roles(lexicon, "去上海市")
    assert set(sets[(1, B)]) == {"上海", "上海市"}
    assert set(sets[(2, M)]) == {"上海市"} and set(sets[(2, E)]) == {"上海"} and set(sets[(2, S)]) == {"海"}
    assert set(sets[(3, E)]) == {"上海市"} and set(sets[(3, S)]) == {"市"}
    assert sets[(0, B)] == sets[(0, M)] == sets[(0, E)] == sets[(0, S)] == {"NONE": 1.0}  # 去: no word
    assert sets[(1, M)] == sets[(1, E)] == sets[(1, S)] == {"NONE": 1.0}
    # SoftLexicon weights: z(w) / Z * 4 over all the words over the character, z = log(1 + freq)
    z = {w: numpy.log1p(f) for w, f in zip(lexicon.words, lexicon.freqs)}
    total = z["上海市"] + z["上海"] + z["海"]
    assert sets[(2, M)]["上海市"] == pytest.approx(4 * z["上海市"] / total)
    assert sets[(2, S)]["海"] == pytest.approx(4 * z["海"] / total)
    assert sets[(2, B)] == {"NONE": 1.0}  # no word starts at 海
    assert sum(w for role in (M, E, S) for w in sets[(2, role)].values()) == pytest.approx(4.0)


def test_output_shape_and_pos_columns(nlp, dictionary):
    model = lexicon_model(dictionary, width=8)
    n_pos = len(POS_CLASSES) + 1
    assert model.get_dim("nO") == N_ROLES * (8 + n_pos)
    docs = [nlp("张三去上海"), nlp(""), nlp("市")]
    Y, _ = model(docs, is_train=False)
    assert [y.shape for y in Y] == [(5, model.get_dim("nO")), (0, model.get_dim("nO")), (1, model.get_dim("nO"))]
    pos = Y[0][:, N_ROLES * 8:].reshape((5, N_ROLES, n_pos))
    person, place = POS_CLASSES.index("person"), POS_CLASSES.index("place")
    assert pos[0, B, person] == pytest.approx(4.0) and pos[1, E, person] == pytest.approx(4.0)
    assert pos[3, B, place] > 0 and pos[4, E, place] > 0
    assert pos[2].sum() == 0  # 去 is in no word
    assert pos[:, :, n_pos - 1].sum() == 0  # no user words


def test_user_dictionary_words_are_flagged(nlp, dictionary, tmp_path):
    user = tmp_path / "user.txt"
    user.write_text("去上 nt\n", encoding="utf8")
    model = lexicon_model(dictionary, user=[user], width=8)
    n_pos = len(POS_CLASSES) + 1
    (y,), _ = model([nlp("去上海")], is_train=False)
    pos = y[:, N_ROLES * 8:].reshape((3, N_ROLES, n_pos))
    assert pos[0, B, n_pos - 1] == pytest.approx(4.0)
    assert pos[0, B, POS_CLASSES.index("organisation")] == pytest.approx(4.0)


def test_words_do_not_cross_docs_in_a_batch(nlp, dictionary):
    model = lexicon_model(dictionary)
    alone = [model([nlp(t)], is_train=False)[0][0] for t in ("上", "海")]
    together, _ = model([nlp("上"), nlp("海")], is_train=False)
    for a, b in zip(alone, together):
        numpy.testing.assert_array_equal(a, b)


def test_spaces_and_multichar_tokens_match_nothing(nlp, dictionary):
    model = lexicon_model(dictionary)
    doc = nlp("上  海")
    assert len(doc) == 3 and doc[1].text == " "
    (y,), _ = model([doc], is_train=False)
    (none,), _ = model([nlp("去")], is_train=False)
    numpy.testing.assert_array_equal(y[1], none[0])  # the space token: NONE in all four sets


def test_gradient_matches_finite_differences(nlp, dictionary):
    model = lexicon_model(dictionary, pos_classes=False, width=4)
    embed = model.layers[0].layers[-1]  # HashEmbed(column=0) is ints_getitem >> hashembed
    docs = [nlp("张三去上海市"), nlp("海市")]
    rng = numpy.random.default_rng(0)
    Y, backprop = model(docs, is_train=True)
    R = [rng.normal(size=y.shape).astype("float32") for y in Y]
    embed.set_grad("E", numpy.zeros_like(embed.get_param("E")))
    backprop(R)
    grad = embed.get_grad("E")
    E = embed.get_param("E").copy()
    for row, col in zip(*numpy.nonzero(numpy.abs(grad) > 1e-4)[:2]):
        for eps in (1e-2,):
            plus, minus = E.copy(), E.copy()
            plus[row, col] += eps
            minus[row, col] -= eps
            embed.set_param("E", plus)
            f_plus = sum(float((y * r).sum()) for y, r in zip(model(docs, is_train=False)[0], R))
            embed.set_param("E", minus)
            f_minus = sum(float((y * r).sum()) for y, r in zip(model(docs, is_train=False)[0], R))
            assert (f_plus - f_minus) / (2 * eps) == pytest.approx(grad[row, col], rel=1e-2, abs=1e-3)
    embed.set_param("E", E)


def test_lexicon_is_saved_with_the_weights(nlp, dictionary):
    model = lexicon_model(dictionary)
    data = model.to_bytes()
    dictionary.unlink()  # loading must not read the dictionary file again
    fresh = build_soft_lexicon(width=8, rows=100, max_word_length=4, dictionary=str(dictionary))
    fresh.from_bytes(data)
    assert fresh.attrs["lexicon"].words == model.attrs["lexicon"].words
    (a,), _ = model([nlp("张三去上海市")], is_train=False)
    (b,), _ = fresh([nlp("张三去上海市")], is_train=False)
    numpy.testing.assert_array_equal(a, b)


def test_doc_codes_are_the_code_points_of_the_text():
    """doc_codes reads each one-character token's code point from its ORTH
    string (issue 27: without building doc.text); the codes are those of the
    text at the token's offset, and a longer token keeps its ORTH hash."""
    from spacy.attrs import IDX, LENGTH, ORTH
    from spacy.tokens import Doc

    from spacy_cluener.layers.soft_lexicon import doc_codes

    vocab = spacy.blank("zh").vocab
    docs = [Doc(vocab, words=["上", "海", "  ", "A", "😀", "\u00e9"], spaces=[False] * 5 + [True]),
            Doc(vocab, words=[]), Doc(vocab, words=["北", "京"])]
    codes, ends = doc_codes(docs)
    expected = []
    for doc in docs:
        attrs = doc.to_array([IDX, LENGTH, ORTH]).reshape((len(doc), 3)).astype("uint64")
        chars = text_codes(doc.text)
        for idx, length, orth in attrs:
            expected.append(chars[int(idx)] if length == 1 else orth)
    assert codes.tolist() == [int(x) for x in expected]
    assert ends.tolist() == [6] * 6 + [8, 8]
