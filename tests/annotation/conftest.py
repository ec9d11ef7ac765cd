"""Shared by the annotation tests: a CLUENER slice, and what `nlp.pipe`
gives for it (the reference every engine's output must equal)."""
import json
from pathlib import Path
from typing import List

import pytest
import spacy
import torch

from spacy_cluener.annotation import doc_entities, read_output
from spacy_cluener.annotation.manifest import SUCCESS
from spacy_cluener.evaluation.confidence import enable_scores, scores_key

N_RECORDS = 2000


def cluener_lines(data_dir: Path, n: int) -> List[str]:
    with open(data_dir / "cluener2020" / "train.json", encoding="utf-8") as handle:
        return [next(handle).rstrip("\n") for _ in range(n)]


@pytest.fixture(scope="session")
def cluener_file(data_dir, tmp_path_factory) -> Path:
    """The first 2,000 CLUENER train records (no ids: FILE:LINE ids)."""
    path = tmp_path_factory.mktemp("cluener") / "train2000.json"
    path.write_text("\n".join(cluener_lines(data_dir, N_RECORDS)) + "\n", encoding="utf-8")
    return path


def prefix_file(cluener_file: Path, reference: List[dict], out: Path, n: int) -> "tuple[Path, List[dict]]":
    """The first n records of the slice in another file, and their reference
    (the same entities, ids of the new file)."""
    lines = cluener_file.read_text(encoding="utf-8").splitlines()[:n]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out, [{"id": f"{out}:{k}", "entities": r["entities"]} for k, r in enumerate(reference[:n], start=1)]


def pipe_reference(model: Path, texts: List[str], ids: list) -> List[dict]:
    """[{"id", "entities"}] from plain nlp.pipe, with scores, one torch
    thread (the workers' setting), as the engines must write them."""
    nlp = spacy.load(model)
    enable_scores(nlp)
    key = scores_key(nlp)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return [{"id": i, "entities": doc_entities(doc, key)} for doc, i in zip(nlp.pipe(texts), ids)]
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def cluener_reference(crf_model, cluener_file) -> List[dict]:
    lines = cluener_file.read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines]
    return pipe_reference(crf_model, texts, [f"{cluener_file}:{n}" for n in range(1, len(texts) + 1)])


def assert_exactly_once(out_dir: Path, expected: List[dict]) -> dict:
    """The output holds every expected record once, in input order, equal to
    the reference; the directory holds exactly the manifest's shard files
    and no temporary file. RETURNS (dict): the manifest."""
    manifest = json.loads((out_dir / SUCCESS).read_text(encoding="utf-8"))
    rows = read_output(out_dir)
    assert [r["id"] for r in rows] == [e["id"] for e in expected]
    assert [without_scores(r) for r in rows] == [without_scores(e) for e in expected]
    # the float64 marginals move in the last bit with the batch a doc is padded
    # in (a shard's batches are not nlp.pipe's over the whole file)
    assert [scores(r) for r in rows] == [pytest.approx(scores(e), rel=1e-12, abs=1e-15) for e in expected]
    on_disk = sorted(p.name for p in out_dir.iterdir() if not p.name.startswith("_"))
    assert on_disk == sorted(s["file"] for s in manifest["shards"])
    assert manifest["records"] == len(expected) == sum(s["records"] for s in manifest["shards"])
    return manifest


def shard_stats(out_dir: Path) -> dict:
    """name -> (inode, mtime_ns) of each shard file: unchanged means not rewritten."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out_dir.glob("part-*")}



def without_scores(row: dict) -> tuple:
    return row["id"], [{k: v for k, v in e.items() if k != "score"} for e in row["entities"]]


def scores(row: dict) -> list:
    return [e["score"] for e in row["entities"]]
