"""Write the distinct entity texts of a labelled corpus as a user dictionary.

    python scripts/entity_wordlist.py CORPUS.spacy OUT.txt [--tag LABEL=TAG ...] [--default-tag nz]

One `word tag` line per text in jieba's format, for
`components.tok2vec.model.embed.lexicon.user_dictionaries`: a gazetteer of
names you have already labelled. The `user_dictionary` ablation (benchmarks) measures what that does
on CLUENER (a list of the training entities makes the model stop
looking past the list).
"""
from pathlib import Path
from typing import List

import spacy
import typer
from spacy.tokens import DocBin

from spacy_cluener.cli import run_script
from spacy_cluener.lexicon import entity_wordlist
from spacy_cluener.util import atomic_open


def main(
    corpus_path: Path = typer.Argument(..., exists=True, dir_okay=False),
    output_path: Path = typer.Argument(...),
    tag: List[str] = typer.Option([], "--tag", help="LABEL=TAG, e.g. name=nr (jieba POS tags)"),
    default_tag: str = typer.Option("nz", "--default-tag", help="tag of the other labels"),
):
    if output_path.resolve() == corpus_path.resolve():
        raise typer.BadParameter(f"{output_path} is the input corpus; choose another output")
    tags = {}
    for item in tag:
        label, sep, value = item.partition("=")
        if not sep or not label or not value:
            raise typer.BadParameter(f"--tag {item!r}: expected LABEL=TAG")
        tags[label] = value
    docs = DocBin().from_disk(corpus_path).get_docs(spacy.blank("zh").vocab)
    try:
        lines, counts = entity_wordlist(((e.text, e.label_) for doc in docs for e in doc.ents), tags, default_tag)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    with atomic_open(output_path) as out:
        out.write("".join(f"{line}\n" for line in lines))
    rejected = {k: v for k, v in counts.items() if k.startswith("rejected")}
    print(f"{corpus_path}: {counts['entities']} entities -> {counts['written']} words ({output_path}), "
          f"{counts['duplicates']} duplicates, {sum(rejected.values())} rejected {rejected or ''}".rstrip())


if __name__ == "__main__":
    run_script(main)
