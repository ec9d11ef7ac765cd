"""The engines that map shards to summaries: `local` (this process, one shard
after another) and `ray` (`ray_engine.py`, imported only when asked for, so
the package works without Ray)."""
from typing import Callable, Iterator, List

from ..errors import Errors
from .inputs import AnnotationError, Shard
from .worker import ShardAnnotator, WorkerSettings

ENGINES = ("local", "ray")


def run_local(shards: List[Shard], settings: WorkerSettings, **_) -> Iterator[dict]:
    """The local engine: this process, one shard after another."""
    if not shards:
        return
    annotator = ShardAnnotator(settings)
    for shard in shards:
        yield annotator.annotate(shard)


def get_engine(name: str) -> Callable[..., Iterator[dict]]:
    if name == "local":
        return run_local
    if name == "ray":
        from .ray_engine import run_ray  # imports ray lazily, with a one-line error without it

        return run_ray
    raise AnnotationError(Errors.E036.format(engine=name, allowed=", ".join(ENGINES)))
