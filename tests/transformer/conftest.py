"""The transformer tests need spacy-transformers and transformers; the tiny
BERT and the CLUENER slices they train on are fixtures of tests/conftest.py."""
import pytest

pytest.importorskip("spacy_transformers")
pytest.importorskip("transformers")
