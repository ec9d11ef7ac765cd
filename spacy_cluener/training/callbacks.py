"""Callbacks referenced from configs: a wall-clock budget for training, and
the `[initialize.before_init]` setup of a frozen transformer.

spaCy does not initialize frozen components (`init_nlp` disables them while
calling `nlp.initialize`): it expects them to be sourced from a trained
pipeline. A transformer frozen straight from Hugging Face weights would then
never load them. This callback loads the weights of the frozen transformer
components that have none yet and connects their listeners, so the
`crf_ner` head can be trained on a fixed encoder:

    [training]
    frozen_components = ["transformer"]
    annotating_components = ["transformer"]

(`annotating_components` makes the frozen transformer set `doc._.trf_data`
during training, which is what the listener reads when its upstream
component is not being updated.)
"""
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

from spacy.language import Language
from spacy.util import registry
from thinc.api import Model, NumpyOps

from ..errors import Errors


class TrainingBudgetExceeded(BaseException):
    """Raised by the time budget to end `spacy train` early.

    A BaseException, like KeyboardInterrupt: spaCy's training loop catches
    every `Exception` and reports it as "Aborting ... Encountered exception",
    which reads like a crash. This passes through that handler; the loop's
    `finally` still saves model-last, and `scripts/train.py` reports a normal
    stop.
    """


@registry.callbacks("spacy_cluener.time_budget.v1")
def make_time_budget(max_seconds: float) -> Callable[[Language, Dict[str, Any]], None]:
    """Stop training after `max_seconds` of wall-clock time (0 = no limit).

    Opt-in only: where training stops then depends on how busy the machine
    is, so the project's default is a fixed number of steps. Used as
    `[training.before_update]`; model-best is the last improving evaluation.
    """
    start = time.monotonic()

    def before_update(nlp: Language, args: Dict[str, Any]) -> None:
        if max_seconds and time.monotonic() - start > max_seconds:
            raise TrainingBudgetExceeded(
                f"time budget of {max_seconds:.0f}s used at step {args.get('step')}"
            )

    return before_update


@registry.callbacks("spacy_cluener.init_frozen_transformer.v1")
def create_init_frozen_transformer(frozen_components: List[str]) -> Callable[[Language], Language]:
    """frozen_components (List[str]): normally `${training.frozen_components}`;
        names that are not transformers, or whose weights are already loaded
        (sourced components), are left alone.
    RETURNS (Callable[[Language], Language]): the before_init callback.
    """

    def init_frozen_transformer(nlp: Language) -> Language:
        check_local_weights(nlp)
        for name in frozen_components:
            if name not in nlp.component_names:
                continue
            pipe = nlp.get_pipe(name)
            attrs = getattr(getattr(pipe, "model", None), "attrs", {})
            if "has_transformer" not in attrs or attrs["has_transformer"]:
                continue
            # Transformer.initialize loads the Hugging Face weights; it does not
            # read the examples. It links listeners only among enabled pipes,
            # and a frozen pipe is disabled here, so link them ourselves: that
            # also gives each listener its width (nO).
            pipe.initialize(lambda: [], nlp=nlp)
            for _, proc in nlp.components:
                pipe.find_listeners(proc)
        return nlp

    return init_frozen_transformer


def check_local_weights(nlp: Language) -> None:
    """Fail in one line when a transformer's `name` is meant as a local
    directory that does not exist. Hugging Face would read it as a hub id and
    fail deep inside its validation ("Repo id must be in the form ...").
    A name shaped like a hub id (`org/model`) is left to Hugging Face, and
    a transformer whose weights are loaded (sourced from a trained pipeline)
    to itself: its `name` is the one it was trained from, often relative to
    another directory, and is not read again."""
    for name, pipe in nlp.components:
        attrs = getattr(getattr(pipe, "model", None), "attrs", {})
        model_name = attrs.get("name") if "has_transformer" in attrs and not attrs["has_transformer"] else None
        if not isinstance(model_name, str):
            continue
        local = model_name.startswith((".", "/", "~")) or model_name.count("/") > 1 or "\\" in model_name
        if local and not Path(model_name).expanduser().is_dir():
            raise ValueError(Errors.E009.format(component=name, path=model_name))


@registry.callbacks("spacy_cluener.numpy_blas.v1")
def create_numpy_blas() -> Callable[[Language], Language]:
    """Opt-in, CPU only: the dense layers (Maxout, Linear) of every component
    multiply with numpy's BLAS (OpenBLAS in numpy's wheels) instead of thinc's
    blis. On the machines measured (docs/speed.md) OpenBLAS gave 2-4x blis's
    GFLOP/s on the CNN's matrices, so batched prediction gets faster; the
    sums are rounded in another order, so a prediction can differ from the
    default's in rare ties (measured in docs/speed.md), which is why it is not
    the default. Used as `[nlp.after_pipeline_creation]`, or at load:

        spacy.load(path, config={"nlp": {"after_pipeline_creation":
                   {"@callbacks": "spacy_cluener.numpy_blas.v1"}}})

    Set the BLAS thread count with OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS).
    """

    def numpy_blas(nlp: Language) -> Language:
        ops = NumpyOps(use_blis=False)
        for _name, proc in nlp.components:
            model = getattr(proc, "model", None)
            if isinstance(model, Model) and isinstance(model.ops, NumpyOps):
                for node in model.walk():
                    node.ops = ops
        return nlp

    return numpy_blas
