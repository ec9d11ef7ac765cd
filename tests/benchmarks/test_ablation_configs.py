"""benchmarks/configs/ablation/*.cfg: each is configs/cnn_crf.cfg with one
change, says which in its first line, and is listed in the `ablation`
command of benchmarks/project.yml."""
import pytest
import srsly
from spacy.util import load_config

from ..util import CNN_CONFIG, REPO, flat_config

ABLATION = REPO / "benchmarks" / "configs" / "ablation"
CONFIGS = sorted(ABLATION.glob("*.cfg"))


def test_there_are_ablations():
    assert len(CONFIGS) >= 5


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_one_change_to_the_default(path):
    assert path.read_text(encoding="utf8").startswith("# Ablation: ")
    base = flat_config(load_config(CNN_CONFIG, interpolate=False))
    variant = flat_config(load_config(path, interpolate=False))
    changed = {k for k in base.keys() | variant.keys() if base.get(k) != variant.get(k)}
    assert changed, f"{path.name} is configs/cnn_crf.cfg unchanged"
    assert all(k.startswith(("components.", "training.")) for k in changed), changed


def test_each_is_run_by_the_ablation_command():
    project = srsly.read_yaml(REPO / "benchmarks" / "project.yml")
    (ablation,) = [c for c in project["commands"] if c["name"] == "ablation"]
    script = "\n".join(ablation["script"])
    for path in CONFIGS:
        assert f"benchmarks/configs/ablation/{path.name}" in script
        assert f"configs/ablation/{path.name}" in ablation["deps"]
