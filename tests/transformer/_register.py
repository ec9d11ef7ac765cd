"""`spacy train --code` file for an install that predates the entry points
of HeadAdam.v1, BiLSTMOnTok2Vec.v1 and init_frozen_transformer.v1."""
import spacy_cluener.layers.bilstm  # noqa: F401
import spacy_cluener.training  # noqa: F401
