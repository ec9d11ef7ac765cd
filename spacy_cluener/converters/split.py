"""A seeded train/dev split of a corpus that ships no dev set (MSRA, own data).

Checkpoints must be chosen on a dev split, never on the test set.
"""
import random
from typing import List, Sequence, Tuple

from spacy.tokens import Doc


def split_docs(docs: Sequence[Doc], dev_fraction: float = 0.1, seed: int = 0) -> Tuple[List[Doc], List[Doc]]:
    """(train, dev): round(len * dev_fraction) docs drawn with a seeded shuffle
    go to dev; both keep the input order."""
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    dev_ids = set(order[: round(len(docs) * dev_fraction)])
    train = [doc for i, doc in enumerate(docs) if i not in dev_ids]
    dev = [doc for i, doc in enumerate(docs) if i in dev_ids]
    return train, dev
