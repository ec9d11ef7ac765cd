"""errors.html puts labels, entity texts and ids into the page: a label such
as `<img src=x onerror=alert(1)>` or a text with `<script>` must arrive
escaped everywhere (the marks, the titles, the error notes)."""
import spacy
from spacy.tokens import Span
from spacy.training import Example

from spacy_cluener.evaluation import analyse_examples, build_report, errors_html

LABEL = "<img src=x onerror=alert(1)>"
TEXT = "张三<script>alert(1)</script>在北京"


def test_errors_html_escapes_labels_texts_and_ids():
    nlp = spacy.blank("zh")
    gold, pred = nlp.make_doc(TEXT), nlp.make_doc(TEXT)
    start, end = TEXT.index("<script>"), TEXT.index("</script>") + len("</script>")
    gold.ents = [Span(gold, 0, 2, label=LABEL), Span(gold, start, end, label=LABEL)]
    pred.ents = [Span(pred, 0, 1, label="<b>name</b>")]
    gold.user_data["id"] = "<svg onload=alert(2)>"
    report = build_report(analyse_examples([Example(pred, gold)]), n_samples=5, seed=0)
    assert report["samples"], "the example has errors to sample"
    html = errors_html(report)
    for raw in ("<img", "<script", "</script", "<svg", "<b>name"):
        assert raw not in html, raw
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;" in html
