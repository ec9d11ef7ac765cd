"""Label Studio and doccano exports in: DocBins with the same bookkeeping
(read = written + rejected, FILE:LINE) as the other converters."""
import json

import pytest
import spacy

from spacy_cluener.converters import convert_file
from spacy_cluener.converters.labelling import (
    doccano_record,
    label_studio_task,
    py_to_utf16,
    uncertainty_score,
    utf16_to_py,
)

from ..util import write_jsonl


def ls_result(start, end, text, label, **extra):
    return {"id": "r", "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": text, "labels": [label]}, **extra}


def ls_task(text, results, task_id=1, **annotation):
    return {"id": task_id, "data": {"text": text},
            "annotations": [{"id": 10 + task_id, "result": results, "was_cancelled": False, **annotation}],
            "predictions": []}


def ents(doc):
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def docs_of(doc_bin):
    return list(doc_bin.get_docs(spacy.blank("zh").vocab))


def test_label_studio_export_round(tmp_path):
    tasks = [
        ls_task("张三在上海工作", [ls_result(0, 2, "张三", "name"), ls_result(3, 5, "上海", "address")]),
        # two annotators: the latest that was not cancelled wins
        {"id": 2, "data": {"text": "李四去了广州"}, "annotations": [
            {"id": 1, "result": [ls_result(0, 2, "李四", "name")], "updated_at": "2026-01-02T10:00:00Z"},
            {"id": 2, "result": [ls_result(4, 6, "广州", "address")], "updated_at": "2026-01-01T10:00:00Z"},
            {"id": 3, "result": [], "was_cancelled": True, "updated_at": "2026-01-03T10:00:00Z"}]},
        # not labelled yet: rejected
        {"id": 3, "data": {"text": "王五"}, "annotations": [{"id": 4, "result": [], "was_cancelled": True}]},
        # a span whose text does not match: rejected
        ls_task("我爱北京", [ls_result(0, 2, "北京", "address")], task_id=4),
        # an emoji before the entity: Label Studio counts UTF-16 code units
        ls_task("😀张三", [ls_result(2, 4, "张三", "name")], task_id=5),
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=2), encoding="utf-8")
    doc_bin, report = convert_file(path, "labelstudio")
    assert (report.read, report.written, len(report.rejected)) == (5, 3, 2)
    docs = docs_of(doc_bin)
    assert [ents(d) for d in docs] == [[(0, 2, "name"), (3, 5, "address")], [(0, 2, "name")], [(1, 3, "name")]]
    assert [d.user_data.get("id") for d in docs] == [1, 2, 5]
    lines = report.lines()
    text = path.read_text(encoding="utf-8").splitlines()
    # FILE:LINE is the line where the task starts
    for line in lines:
        n = int(line.split(":")[1])
        assert text[n - 1].strip() == "{"
    assert any("3 annotations" in line or "2 annotations" in line for line in lines)
    assert any("not cancelled" in line for line in lines) and any("'北京'" in line for line in lines)
    assert any("UTF-16" in line for line in lines)


def test_label_studio_json_lines_and_broken_file(tmp_path):
    path = write_jsonl(tmp_path / "tasks.jsonl", [ls_task("张三在上海", [ls_result(0, 2, "张三", "name")]), "{not json"])
    doc_bin, report = convert_file(path, "labelstudio")
    assert (report.read, report.written) == (2, 1) and report.rejected[0][0] == 2
    broken = tmp_path / "broken.json"
    broken.write_text('[\n {"id": 1, "data": {"text": "张三"}, "annotations": [{"result": []}]},\n {"id": oops}\n]', encoding="utf-8")
    doc_bin, report = convert_file(broken, "labelstudio")
    assert (report.read, report.written, report.rejected[0][0]) == (2, 1, 3)
    other = tmp_path / "other.json"
    other.write_text('"just a string"', encoding="utf-8")
    with pytest.raises(ValueError, match="E065"):
        convert_file(other, "labelstudio")


def test_doccano_both_label_shapes(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [
        {"id": 7, "text": "张三在上海工作", "label": [[0, 2, "name"], [3, 5, "address"]]},
        {"text": "李四去了广州", "entities": [{"id": 1, "start_offset": 4, "end_offset": 6, "label": "address"}]},
        {"text": "没有实体", "label": []},
        {"text": "未标注"},
        {"text": "分类", "label": ["positive"]},
        {"text": "越界", "label": [[0, 5, "name"]]},
        {"text": "张三丰", "label": [[0, 2, "name"], [0, 3, "name"]]},
    ])
    doc_bin, report = convert_file(path, "doccano")
    assert (report.read, report.written, len(report.rejected)) == (7, 5, 2)
    assert [line for line, _ in report.rejected] == [5, 6]
    docs = docs_of(doc_bin)
    assert [ents(d) for d in docs] == [[(0, 2, "name"), (3, 5, "address")], [(4, 6, "address")], [], [], [(0, 3, "name")]]
    assert docs[0].user_data["id"] == 7
    assert docs[2].has_annotation("ENT_IOB") and not docs[3].has_annotation("ENT_IOB")
    assert any("overlaps" in line for line in report.lines())


def test_outputs_and_offsets():
    text = "😀张三在上海"
    entities = [{"start": 1, "end": 3, "label": "name", "text": "张三", "score": 0.91234},
                {"start": 4, "end": 6, "label": "address", "text": "上海", "score": 0.5}]
    task = label_studio_task(text, "a:1", entities, "zh_x-0.1.0")
    prediction = task["predictions"][0]
    assert task["data"] == {"text": text, "ref_id": "a:1"}
    assert prediction["model_version"] == "zh_x-0.1.0" and prediction["score"] == 0.5
    assert prediction["result"][0]["value"] == {"start": 2, "end": 4, "text": "张三", "labels": ["name"]}
    assert prediction["result"][0]["score"] == 0.9123
    assert doccano_record(text, 3, entities) == {"text": text, "label": [[1, 3, "name"], [4, 6, "address"]], "id": 3,
                                                 "scores": [0.9123, 0.5]}
    assert uncertainty_score([]) == 1.0 and uncertainty_score(entities) == 0.5
    u16 = py_to_utf16(text)
    assert [utf16_to_py(text)[u] for u in u16] == list(range(len(text) + 1))


def test_label_studio_prediction_converts_back(tmp_path):
    """What predict --to label-studio writes, once an annotator accepts it, converts back unchanged."""
    text = "😀张三在上海"
    entities = [{"start": 1, "end": 3, "label": "name", "text": "张三", "score": 0.9}]
    task = label_studio_task(text, "x", entities, "m")
    task["annotations"] = [{"id": 1, "result": task["predictions"][0]["result"], "was_cancelled": False}]
    path = tmp_path / "e.json"
    path.write_text(json.dumps([task], ensure_ascii=False), encoding="utf-8")
    doc_bin, report = convert_file(path, "labelstudio")
    (doc,) = docs_of(doc_bin)
    assert ents(doc) == [(1, 3, "name")] and doc.user_data["id"] == "x"


def test_an_entity_on_standalone_whitespace_is_kept_with_a_note(tmp_path):
    path = write_jsonl(tmp_path / "w.jsonl", [{"text": "张三  王五", "label": [[1, 4, "name"]]},
                                               {"text": "张三王五", "label": [[0, 2, "name"]]}])
    doc_bin, report = convert_file(path, "doccano")
    assert [ents(d) for d in docs_of(doc_bin)] == [[(1, 4, "name")], [(0, 2, "name")]]
    assert [line for line, _ in report.notes] == [1] and "starts or ends on whitespace" in report.notes[0][1]


def test_label_studio_relation_is_skipped_with_a_note_not_rejected(tmp_path):
    # Label Studio's relation result has no 'value': {"from_id", "to_id", "type": "relation"}
    relation = {"from_id": "a1", "to_id": "a2", "type": "relation", "direction": "right", "labels": ["works_in"]}
    task = ls_task("张三在上海工作", [ls_result(0, 2, "张三", "name", id="a1"), ls_result(3, 5, "上海", "address", id="a2"),
                                  relation])
    path = tmp_path / "export.json"
    path.write_text(json.dumps([task], ensure_ascii=False), encoding="utf-8")
    doc_bin, report = convert_file(path, "labelstudio")
    assert (report.read, report.written, report.rejected) == (1, 1, [])
    assert [ents(d) for d in docs_of(doc_bin)] == [[(0, 2, "name"), (3, 5, "address")]]
    assert [note for _, note in report.notes] == ["result of type 'relation' is not a span label; skipped"]


class _ScanCountingText(str):
    """A file text that adds up how many characters `count` scans."""
    scanned = 0

    def count(self, sub, start=0, end=None):
        end = len(self) if end is None else end
        type(self).scanned += max(0, end - start)
        return super().count(sub, start, end)


def test_label_studio_list_line_numbers_are_counted_in_one_pass(tmp_path, monkeypatch):
    # line numbers must stay right, and finding them must not rescan the file
    # from its start for every task (quadratic: a 16,000-task export took 71 s)
    from spacy_cluener.converters import labelling

    tasks = [ls_task("张三" * (i + 1), [ls_result(0, 1, "张", "name")], task_id=1000 * (i + 1)) for i in range(30)]
    tasks[7]["annotations"] = []  # rejected: not labelled yet
    tasks[21]["data"] = {}  # rejected: no text
    path = tmp_path / "export.json"
    body = ",\n".join(json.dumps(t, ensure_ascii=False, indent=1 + i % 3) for i, t in enumerate(tasks))
    path.write_text("[\n" + body + "\n]\n", encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    starts = [text.count("\n", 0, text.index(f'"id": {1000 * (i + 1)},')) for i in range(30)]  # the line before each "id"
    _ScanCountingText.scanned = 0
    monkeypatch.setattr(labelling, "_read_text", lambda p: _ScanCountingText(text))
    doc_bin, report = convert_file(path, "labelstudio")
    assert [line for line, _ in report.rejected] == [starts[7], starts[21]]
    assert (report.read, report.written) == (30, 28)
    assert _ScanCountingText.scanned <= len(text)


def test_doccano_label_beside_entities_and_relations_are_not_dropped_silently(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [
        # both shapes: neither wins silently; the spans of both are used
        {"id": 1, "text": "张三在上海工作", "label": [[0, 2, "name"]], "entities": []},
        {"id": 2, "text": "张三在上海工作", "label": [[0, 2, "name"]],
         "entities": [{"id": 9, "start_offset": 0, "end_offset": 2, "label": "name"},
                      {"id": 10, "start_offset": 3, "end_offset": 5, "label": "address"}],
         "relations": [{"id": 1, "from_id": 9, "to_id": 10, "type": "works_in"}]},
    ])
    doc_bin, report = convert_file(path, "doccano")
    assert (report.read, report.written, report.rejected) == (2, 2, [])
    assert [ents(d) for d in docs_of(doc_bin)] == [[(0, 2, "name")], [(0, 2, "name"), (3, 5, "address")]]
    notes = report.lines()
    assert any(":2: note: 1 relation(s) in 'relations' skipped" in n for n in notes)
    assert any(":2: note: record has spans in both 'entities' and 'label'" in n for n in notes)
    assert any(":2: note: name [0, 2) is listed twice; kept once" in n for n in notes)


@pytest.mark.parametrize("older,newer", [
    ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00.500000Z"),  # Django drops zero microseconds
    ("2024-03-01T17:00:00+08:00", "2024-03-01T10:00:01Z"),  # 09:00 UTC vs 10:00:01 UTC
    ("2024-03-01T09:59:59.999", "2024-03-01T10:00:00+00:00"),  # no offset: UTC
    ("not a date", "2024-03-01T10:00:00Z"),  # unreadable: counts as oldest
])
def test_label_studio_latest_annotation_compares_times_not_strings(tmp_path, older, newer):
    for first, second in ((older, newer), (newer, older)):
        task = {"id": 1, "data": {"text": "张三在上海"}, "annotations": [
            {"id": 101, "result": [ls_result(0, 2, "张三", "name")], "updated_at": first},
            {"id": 102, "result": [ls_result(3, 5, "上海", "address")], "updated_at": second}]}
        path = tmp_path / "export.json"
        path.write_text(json.dumps([task], ensure_ascii=False), encoding="utf-8")
        doc_bin, report = convert_file(path, "labelstudio")
        expected = [(3, 5, "address")] if second == newer else [(0, 2, "name")]
        assert [ents(d) for d in docs_of(doc_bin)] == [expected], (first, second)
        assert f"{newer}) is used" in report.notes[0][1]


@pytest.mark.parametrize("tail", ["", ",", ",\n "])
def test_label_studio_list_cut_between_tasks_is_one_error_not_a_phantom_task(tmp_path, tail):
    tasks = [ls_task("张三", [ls_result(0, 2, "张三", "name")], task_id=i) for i in (1, 2)]
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1).rstrip().rstrip("]").rstrip() + tail,
                    encoding="utf-8")
    with pytest.raises(ValueError, match=r"E065\].*the list is not closed"):
        convert_file(path, "labelstudio")
