"""What `spacy train` uses besides the pipeline: per-group learning rates
(`spacy_cluener.HeadAdam.v1`), callbacks (`spacy_cluener.time_budget.v1`,
`spacy_cluener.init_frozen_transformer.v1`) and a training log that survives a
killed run (`spacy_cluener.JsonlLogger.v1`)."""
from .callbacks import TrainingBudgetExceeded, create_init_frozen_transformer, make_time_budget
from .loggers import make_jsonl_logger
from .optimizers import HeadOptimizer, create_head_adam

__all__ = [
    "HeadOptimizer",
    "TrainingBudgetExceeded",
    "create_head_adam",
    "create_init_frozen_transformer",
    "make_jsonl_logger",
    "make_time_budget",
]
