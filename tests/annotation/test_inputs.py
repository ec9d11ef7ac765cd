"""Shards are a pure function of the inputs and cover every line once;
records are read, accepted and rejected as `predict` reads them."""
import json
import os

import pytest

from spacy_cluener.annotation import AnnotationError, plan_shards, read_shard, resolve_inputs
from spacy_cluener.prediction import read_cluener_texts

from ..util import write_jsonl


def read_all(shards, max_length=1_000_000):
    records, rejected = [], []
    for shard in shards:
        records.extend(read_shard(shard, lambda line, reason, s=shard: rejected.append((s.display, line, reason)), max_length))
    return records, rejected


def test_jsonl_shards_cover_every_line_once(tmp_path):
    lines = [json.dumps({"id": i, "text": f"文本{i}"}, ensure_ascii=False) for i in range(10)]
    path = tmp_path / "a.json"
    path.write_text("\n".join(lines), encoding="utf-8")  # no final newline
    files = resolve_inputs([str(path)])
    shards = list(plan_shards(files, 3))
    assert [s.name for s in shards] == [f"part-00000-00000{k}" for k in range(4)]
    assert [(s.first, s.n_lines) for s in shards] == [(1, 3), (4, 3), (7, 3), (10, 1)]
    assert shards[0].start == 0 and shards[-1].end == path.stat().st_size
    assert all(a.end == b.start for a, b in zip(shards, shards[1:]))
    assert list(plan_shards(files, 3)) == shards  # deterministic
    records, rejected = read_all(shards)
    assert records == [(f"文本{i}", str(i)) for i in range(10)] and not rejected


def test_ids_default_to_file_and_line(tmp_path):
    path = tmp_path / "b.json"
    path.write_bytes(
        "\ufeff{\"text\": \"张三\"}\r\n\r\n  \n{\"id\": \"x\", \"text\": \"李四\"}\n\ufeff{\"text\": \"王五\", \"id\": null}\n".encode()
    )
    name = str(path)
    records, rejected = read_all(plan_shards(resolve_inputs([name]), 2))
    assert records == [("张三", f"{name}:1"), ("李四", "x"), ("王五", f"{name}:5")]
    assert not rejected


@pytest.mark.parametrize(
    "line,reason",
    [
        ('{"id": 1, "text": "张三"', "invalid JSON"),
        ('["张三"]', "not a JSON object"),
        ('{"id": 1, "txt": "张三"}', "missing 'text'"),
        ('{"text": "\\ud83d"}', "not valid Unicode"),
        ('{"text": NaN}', "NaN is not a JSON value"),
        ('{"text": "' + "长" * 50 + '"}', "more than nlp.max_length (20)"),
    ],
)
def test_bad_records_are_rejected_with_their_line(tmp_path, line, reason):
    path = write_jsonl(tmp_path / "bad.json", [{"text": "好"}, line, {"text": "也好"}])
    records, rejected = read_all(plan_shards(resolve_inputs([str(path)]), 1000), max_length=20)
    assert [text for text, _ in records] == ["好", "也好"]
    assert len(rejected) == 1 and rejected[0][1] == 2 and reason in rejected[0][2]


def test_bytes_that_are_not_utf8_reject_their_record_only(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n{"text": "ok2"}\n')
    records, rejected = read_all(plan_shards(resolve_inputs([str(path)]), 1000))
    assert [t for t, _ in records] == ["ok", "ok2"] and rejected[0][1] == 2


def test_parquet_row_ranges_across_row_groups(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    texts = [f"第{i}行" for i in range(30)]
    texts[12] = None
    ids = list(range(30))
    ids[5] = None
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": ids, "text": texts, "extra": [1.0] * 30}), path, row_group_size=7)
    shards = list(plan_shards(resolve_inputs([str(path)]), 10))
    assert [(s.start, s.end, s.first) for s in shards] == [(0, 10, 1), (10, 20, 11), (20, 30, 21)]
    records, rejected = read_all(shards)
    expected = [(t, f"{path}:6" if i == 5 else str(i)) for i, t in enumerate(texts) if t is not None]
    assert records == expected
    assert [(line, reason) for _, line, reason in rejected] == [(13, "missing 'text' (or it is not a string)")]


def test_parquet_without_id_column_and_without_text_column(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    ok, bad = tmp_path / "ok.parquet", tmp_path / "bad.parquet"
    pq.write_table(pa.table({"text": ["甲", "乙"]}), ok)
    pq.write_table(pa.table({"body": ["甲"]}), bad)
    records, _ = read_all(plan_shards(resolve_inputs([str(ok)]), 1))
    assert records == [("甲", f"{ok}:1"), ("乙", f"{ok}:2")]
    with pytest.raises(AnnotationError, match="no 'text' column"):
        list(plan_shards(resolve_inputs([str(bad)]), 1))


def test_resolve_inputs_globs_duplicates_and_errors(tmp_path):
    for name in ("b.json", "a.json", "c.txt"):
        (tmp_path / name).write_text('{"text": "x"}\n', encoding="utf-8")
    files = resolve_inputs([str(tmp_path / "*.json"), str(tmp_path / "a.json"), str(tmp_path / "c.txt")])
    assert [f.name for f in files] == [str(tmp_path / n) for n in ("a.json", "b.json", "c.txt")]
    with pytest.raises(AnnotationError, match=r"\[E021\] No input file matches"):
        resolve_inputs([str(tmp_path / "*.jsonl")])
    with pytest.raises(AnnotationError, match="does not exist"):
        resolve_inputs([str(tmp_path / "missing.json")])
    with pytest.raises(AnnotationError, match="is a directory"):
        resolve_inputs([str(tmp_path)])


def test_a_file_that_changes_during_the_run_stops_it(tmp_path):
    path = write_jsonl(tmp_path / "a.json", [{"text": "甲"}])
    shards = list(plan_shards(resolve_inputs([str(path)]), 10))
    write_jsonl(path, [{"text": "甲"}, {"text": "乙"}])
    with pytest.raises(AnnotationError, match=r"\[E023\]"):
        read_all(shards)


@pytest.mark.parametrize("shard_size", [1, 2, 4, 100])
def test_lines_end_at_lf_crlf_or_a_lone_cr_as_in_predict(tmp_path, shard_size):
    """annotate split at b"\\n" only: a CR-only file was one rejected record,
    and after a stray CR its FILE:LINE disagreed with predict's (probe D14)."""
    path = tmp_path / "mixed.json"
    path.write_bytes('{"text": "一"}\r\r{"text": "二"}\r\n{"id": 5, "text": "三"}\n{"text": "四"}\r'
                     '\ufeff{"text": "五"}'.encode("utf-8"))
    shards = list(plan_shards(resolve_inputs([str(path)]), shard_size))
    assert shards[0].start == 0 and shards[-1].end == path.stat().st_size
    assert all(a.end == b.start for a, b in zip(shards, shards[1:]))
    assert sum(s.n_lines for s in shards) == 6
    records, rejected = read_all(shards)
    assert not rejected
    assert records == [(text, str(record_id)) for text, record_id in read_cluener_texts(path)]
    assert records == [("一", f"{path}:1"), ("二", f"{path}:3"), ("三", "5"), ("四", f"{path}:5"), ("五", f"{path}:6")]


def test_a_pipe_is_not_a_missing_file(tmp_path):
    """`annotate MODEL /dev/stdin OUT` said '/dev/stdin' does not exist;
    annotate reads byte ranges, so a pipe is refused, with the reason."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(AnnotationError, match=r"\[E022\] Input '.*fifo' is not a regular file .*save it to a file first"):
        resolve_inputs([str(fifo)])
    with pytest.raises(AnnotationError, match="does not exist"):
        resolve_inputs([str(tmp_path / "missing.json")])
