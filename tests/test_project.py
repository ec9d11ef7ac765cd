"""The project as a user runs it: `spacy project run all` and `own-data` in a
copy of the checkout, at tiny settings (a few training steps), as
explosion/projects tests its projects with weasel's `project_run`."""
import json
import shutil

import pytest
import spacy
from spacy.tokens import DocBin
from weasel.cli.run import check_rerun, project_run, update_lockfile
from weasel.util import load_project_config

from .util import DATA, REPO, rec

# what project.yml's commands read: the rest of the checkout stays behind
PROJECT_FILES = ["project.yml", "setup.py", "README.md", "configs", "scripts", "spacy_cluener"]


@pytest.fixture
def project(tmp_path, data_dir):
    root = tmp_path / "project"
    root.mkdir()
    for name in PROJECT_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(src, root / name)
    return root


def docs(path):
    return list(DocBin().from_disk(path).get_docs(spacy.blank("zh").vocab))


@pytest.mark.slow
def test_all_at_tiny_settings(project):
    project_run(project, "all", overrides={"vars.max_steps": 10, "vars.msra_max_steps": 10, "vars.shared": str(DATA)})
    scores = json.loads((project / "metrics" / "cluener-dev.json").read_text(encoding="utf8"))
    assert {"ents_p", "ents_r", "ents_f", "ents_macro_f", "ents_per_type"} <= set(scores)
    report = json.loads((project / "reports" / "cluener-dev" / "report.json").read_text(encoding="utf8"))
    assert {"micro", "macro", "per_type"} <= set(report)
    submission = (project / "metrics" / "cluener_predict.json").read_text(encoding="utf8").splitlines()
    assert len(submission) == 1345 and all("label" in json.loads(line) for line in submission)
    assert sorted(p.name for p in (project / "packages" / "dist").glob("*.whl")) == [
        "spacy_cluener-0.1.0-py3-none-any.whl", "zh_cluener_crf-0.1.0-py3-none-any.whl"]
    assert (project / "training" / "cnn_crf" / "training_log.jsonl").read_text(encoding="utf8").strip()
    # calibrate: the calibrated copy is what evaluate, report and package use (issue 26)
    cfg = json.loads((project / "training" / "cnn_crf" / "model-calibrated" / "crf_ner" / "cfg").read_text(encoding="utf8"))
    assert len(cfg["calibration"]["fit"]["heldout_docs"]) == len(docs(project / "corpus" / "cluener-dev.spacy")) // 2
    assert "heldout_after" in json.loads((project / "metrics" / "cluener-dev-calibration.json").read_text(encoding="utf8"))


@pytest.mark.slow
def test_own_data_at_tiny_settings(project):
    lines = [rec("浙商银行叶老桂", {"company": {"浙商银行": [[0, 3]]}, "name": {"叶老桂": [[4, 6]]}})] * 4
    data = project / "own.json"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    project_run(project, "own-data", overrides={
        "vars.train_file": "own.json", "vars.dev_file": "own.json", "vars.test_file": "own.json",
        "vars.format": "cluener", "vars.max_steps": 10})
    assert [len(docs(project / "corpus" / f"own-{s}.spacy")) for s in ("train", "dev", "test")] == [4, 4, 4]
    scores = json.loads((project / "metrics" / "own-test.json").read_text(encoding="utf8"))
    assert "ents_f" in scores
    assert (project / "reports" / "own-test" / "report.json").exists()
    assert (project / "training" / "own-cnn_crf" / "model-calibrated" / "crf_ner" / "cfg").exists()


def test_own_convert_reads_a_changed_dev_file(project):
    """Issue 24 #5: a changed dev file was skipped ("nothing changed"): it is
    not a dep of own-convert (it may be "")."""
    one = rec("浙商银行叶老桂", {"company": {"浙商银行": [[0, 3]]}, "name": {"叶老桂": [[4, 6]]}})
    (project / "train.json").write_text(one + "\n", encoding="utf-8")
    (project / "dev.json").write_text(one + "\n", encoding="utf-8")
    overrides = {"vars.train_file": "train.json", "vars.dev_file": "dev.json", "vars.test_file": "train.json",
                 "vars.format": "cluener"}
    project_run(project, "source-hash")
    project_run(project, "own-convert", overrides=overrides)
    assert len(docs(project / "corpus" / "own-dev.spacy")) == 1
    (project / "dev.json").write_text(one + "\n" + one + "\n", encoding="utf-8")
    project_run(project, "own-convert", overrides=overrides)
    assert len(docs(project / "corpus" / "own-dev.spacy")) == 2


def test_a_code_change_reruns_the_steps_that_run_the_package(project):
    """A step that runs the package (here calibrate) is due again after any
    change to its source, through source-hash's output, and not otherwise;
    the docs audit found calibrate and evaluate skipped ("nothing changed")
    after changes to modules their deps did not list. Weasel's own
    bookkeeping (update_lockfile, check_rerun) on placeholder inputs, so no
    model is trained."""
    config = load_project_config(project)
    calibrate = next(c for c in config["commands"] if c["name"] == "calibrate")
    for dep in [*calibrate["deps"], *calibrate["outputs"]]:
        path = project / dep
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            if "." in path.name:
                path.write_text("placeholder", encoding="utf8")
            else:
                path.mkdir()
                (path / "file").write_text("placeholder", encoding="utf8")
    project_run(project, "source-hash")
    hash_file = project / "training" / "spacy_cluener.sha256"
    stamp = hash_file.stat().st_mtime_ns
    update_lockfile(project, calibrate)
    assert not check_rerun(project, calibrate)
    project_run(project, "source-hash")
    assert hash_file.stat().st_mtime_ns == stamp and not check_rerun(project, calibrate)
    with (project / "spacy_cluener" / "cli" / "report.py").open("a", encoding="utf8") as file_:
        file_.write("\n# a change in a module calibrate's deps never listed\n")
    project_run(project, "source-hash")
    assert check_rerun(project, calibrate)
