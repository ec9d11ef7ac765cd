"""debug-alignment's options: a count it cannot use is a usage error, not a
traceback (--batch-size 0) nor a check of no docs that passes (-b -1)."""
import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_cluener.cli import app
from spacy_cluener.debugging import check_alignment


@pytest.fixture
def data(tmp_path):
    nlp = spacy.blank("zh")
    path = tmp_path / "dev.spacy"
    DocBin(docs=[nlp.make_doc("张三在上海工作")]).to_disk(path)
    return path


@pytest.mark.parametrize("option,value", [("--batch-size", "0"), ("-b", "-1"), ("--n", "-3")])
def test_counts_below_their_minimum_are_usage_errors(ruler_model, data, option, value):
    result = CliRunner().invoke(app, ["debug-alignment", str(ruler_model), str(data), option, value],
                                env={"COLUMNS": "200"}, terminal_width=200)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "OK" not in result.output
    assert any("Error: Invalid value" in line and f"'{option}'" in line for line in result.output.splitlines()), result.output


def test_check_alignment_refuses_batch_size_below_one():
    with pytest.raises(ValueError, match=r"\[E029\] batch_size must be at least 1, not 0"):
        check_alignment(spacy.blank("zh"), [], batch_size=0)
