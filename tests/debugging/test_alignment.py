"""debug-alignment: passes on CLUENER, fails on broken alignments."""
import pytest

pytest.importorskip("transformers")
trf_model = pytest.importorskip("spacy_transformers.layers.transformer_model")

import spacy  # noqa: E402
from spacy.tokens import DocBin  # noqa: E402
from spacy.training import Corpus  # noqa: E402
from spacy.training.initialize import init_nlp  # noqa: E402
from thinc.api import Ragged  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from spacy_cluener.cli import app  # noqa: E402
from spacy_cluener.debugging import check_alignment  # noqa: E402

from ..util import TRF_CONFIG, trf_config  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def nlp(tiny_bert, cluener_slices):
    return init_nlp(trf_config(tiny_bert, cluener_slices))


@pytest.fixture
def examples(nlp, cluener_slices):
    return list(Corpus(str(cluener_slices["dev"]))(nlp))


def test_clean_on_cluener_slice(nlp, examples):
    report = check_alignment(nlp, examples, batch_size=4)
    assert report.ok, report.problems
    assert len(report.docs) == len(examples)
    assert report.n_padding > 0  # docs were batched with longer ones
    item = report.docs[0]
    assert item.rows[0].piece == "[CLS]" and item.rows[0].tokens == []
    assert item.n_vectors == item.n_emissions == item.n_gold_tags == len(item.tokens)
    # every character token is covered, each by a real (attended) wordpiece
    covered = sorted({i for r in item.rows for i in r.tokens})
    assert covered == list(range(len(item.tokens)))
    assert all(r.attention for r in item.rows if r.tokens)


def test_config_with_model_name(tiny_bert, cluener_slices):
    result = runner.invoke(
        app,
        ["debug-alignment", str(TRF_CONFIG), str(cluener_slices["dev"]), "--n", "3",
         "--model-name", str(tiny_bert)],
    )
    assert result.exit_code == 0, result.output
    assert "[CLS]" in result.output and "OK:" in result.output


def test_a_file_without_docs_is_an_error(nlp, tmp_path):
    model = tmp_path / "model"
    nlp.to_disk(model)
    path = tmp_path / "dev.json"  # a CLUENER file, not a DocBin: zero docs
    path.write_text('{"text": "张三", "label": {"name": {"张三": [[0, 1]]}}}\n', encoding="utf-8")
    result = runner.invoke(app, ["debug-alignment", str(model), str(path)])
    assert result.exit_code != 0, result.output
    assert "holds no docs" in result.output and "OK" not in result.output
    # a config too: checked before it is initialized on the data (it failed with E006)
    result = runner.invoke(app, ["debug-alignment", str(TRF_CONFIG), str(path)])
    assert result.exit_code == 2 and "holds no docs" in result.output and "E006" not in result.output


def test_standalone_space_and_dropped_char_fail(tiny_bert, cluener_slices, tmp_path):
    nlp = spacy.blank("zh")
    doc = nlp.make_doc("北京  天安门\u200b广场")
    assert " " in [t.text for t in doc]
    doc.ents = [doc.char_span(0, 2, label="address")]
    data = tmp_path / "space.spacy"
    DocBin(docs=[doc]).to_disk(data)
    result = runner.invoke(
        app, ["debug-alignment", str(TRF_CONFIG), str(data), "--model-name", str(tiny_bert)]
    )
    assert result.exit_code == 1, result.output
    assert "token 2 ' ' (U+0020) has no wordpiece" in result.output
    assert "(U+200B) has no wordpiece" in result.output


def test_docs_are_named_by_their_index_in_the_file(tiny_bert, tmp_path):
    """spaCy's Corpus drops empty docs; "doc N" is still the file's N-th doc."""
    nlp = spacy.blank("zh")
    docs = [nlp.make_doc(t) for t in ("北京天安门", "", "上海", "", "北京  天安门")]
    docs[0].ents = [docs[0].char_span(0, 2, label="address")]
    data = tmp_path / "empty.spacy"
    DocBin(docs=docs).to_disk(data)
    args = ["debug-alignment", str(TRF_CONFIG), str(data), "--model-name", str(tiny_bert), "--n", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "ERROR: doc 4: token 2 ' ' (U+0020) has no wordpiece" in result.output
    assert "INFO: 3 docs" in result.output
    assert "INFO: 2 empty doc(s) skipped, nothing to check: doc 1, 3" in result.output
    assert [line.split(":")[0] for line in result.output.splitlines() if line.startswith("doc ")] == [
        "doc 0", "doc 2", "doc 4"]
    # --n counts the file's docs, the empty ones included
    result = runner.invoke(app, args[:-1] + ["4"])
    assert result.exit_code == 0, result.output
    assert "INFO: 2 docs" in result.output and "skipped, nothing to check: doc 1, 3" in result.output


def test_special_piece_aligned_fails(nlp, examples, monkeypatch):
    real = trf_model.get_alignment_via_offset_mapping

    def shifted(spans, offset_mapping):
        align = real(spans, offset_mapping)
        return Ragged(align.data - 1, align.lengths)  # token 0 -> [CLS]

    monkeypatch.setattr(trf_model, "get_alignment_via_offset_mapping", shifted)
    report = check_alignment(nlp, examples[:2])
    assert not report.ok
    assert any("special wordpiece '[CLS]'" in p for p in report.problems)


def test_padding_piece_aligned_fails(nlp, examples, monkeypatch):
    real = trf_model.get_alignment_via_offset_mapping

    def into_padding(spans, offset_mapping):
        align = real(spans, offset_mapping)
        data = align.data.copy()
        # the last token of the first (shorter) doc -> the last column of its row: [PAD]
        data[int(align.lengths[: len(spans[0])].sum()) - 1] = offset_mapping.shape[1] - 1
        return Ragged(data, align.lengths)

    monkeypatch.setattr(trf_model, "get_alignment_via_offset_mapping", into_padding)
    short_first = sorted(examples, key=len)[:1] + sorted(examples, key=len)[-1:]
    report = check_alignment(nlp, short_first, batch_size=2)
    assert any("padding wordpiece '[PAD]'" in p for p in report.problems), report.problems


def test_length_mismatch_fails(nlp, examples, monkeypatch):
    real = trf_model.get_alignment_via_offset_mapping

    def drop_last_token(spans, offset_mapping):
        align = real(spans, offset_mapping)
        n = int(align.lengths[-1])
        return Ragged(align.data[: len(align.data) - n], align.lengths[:-1])

    monkeypatch.setattr(trf_model, "get_alignment_via_offset_mapping", drop_last_token)
    report = check_alignment(nlp, examples[:1])
    assert any("emission rows has length" in p for p in report.problems), report.problems
    assert any("token vectors (alignment rows) has length" in p for p in report.problems)


def test_unk_is_a_warning_not_a_failure(nlp):
    from spacy.training import Example

    doc = nlp.make_doc("他说“你好”")
    report = check_alignment(nlp, [Example(doc, nlp.make_doc(doc.text))])
    assert report.ok and report.n_unk == 2
    assert report.unk_chars == {"“": 1, "”": 1}
