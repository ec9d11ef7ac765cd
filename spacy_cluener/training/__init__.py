"""Fine-tuning helpers: per-group learning rates and frozen-encoder setup.

Importing this package registers `spacy_cluener.HeadAdam.v1` and
`spacy_cluener.init_frozen_transformer.v1`.
"""
from .callbacks import create_init_frozen_transformer
from .optimizers import HeadOptimizer, create_head_adam
from .param_groups import is_head, mark_head

__all__ = ["HeadOptimizer", "create_head_adam", "create_init_frozen_transformer", "is_head", "mark_head"]
