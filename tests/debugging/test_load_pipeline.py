"""debug-alignment's loader: a misused --model-name is a coded error that says
what to do."""
import pytest
import spacy

from spacy_cluener.debugging.alignment import load_pipeline

from ..util import CNN_CONFIG


def test_model_name_with_a_pipeline_directory_is_E045(tmp_path):
    spacy.blank("zh").to_disk(tmp_path / "model")
    with pytest.raises(ValueError, match=r"\[E045\]"):
        load_pipeline(tmp_path / "model", lambda nlp: [], model_name="bert")


def test_model_name_with_a_config_without_transformer_is_E046():
    with pytest.raises(ValueError, match=r"\[E046\]"):
        load_pipeline(CNN_CONFIG, lambda nlp: [], model_name="bert")
