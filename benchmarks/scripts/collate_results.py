"""Build the results tables from the committed JSON in benchmarks/results/:
the headline table of README.md and every table of docs/results.md, each
between its `<!-- COLLATE: NAME START ... -->` / `<!-- COLLATE: NAME END -->`
markers. No figure in those tables is typed by hand.

    python scripts/collate_results.py            # rewrite the tables
    python scripts/collate_results.py --check    # exit 1 when a committed table differs

A missing result is shown as missing (e.g. "1 of 3 seeds"), never guessed.
"""
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional

import typer

from spacy_cluener.cli import run_script

BENCHMARKS = Path(__file__).resolve().parents[1]
REPO = BENCHMARKS.parent
RESULTS = BENCHMARKS / "results"
SEEDS = (0, 1, 2)
PROJECT = "benchmarks/project.yml"


def load(path: Path) -> Optional[dict]:
    return json.loads(path.read_text(encoding="utf8")) if path.exists() else None


def link(text: str, target: str, prefix: str) -> str:
    return f"[{text}]({prefix}{target})"


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def command(name: str, prefix: str) -> str:
    return link(f"`{name}`", PROJECT, prefix)


def table(header: List[str], rows: List[List[str]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def pct(value: float) -> str:
    return f"{100 * value:.2f}"


def num(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:,.0f}"


def mean_spread(values: List[float]) -> str:
    """mean ± sample standard deviation, in %; one value alone has no spread."""
    if len(values) == 1:
        return pct(values[0])
    return f"{pct(statistics.mean(values))} ± {pct(statistics.stdev(values))}"


def seed_results(config: str = "cnn_crf", data: str = "cluener-dev") -> Dict[int, dict]:
    out = {}
    for seed in SEEDS:
        result = load(RESULTS / "seeds" / f"{config}-{data}-seed{seed}.json")
        if result is not None:
            out[seed] = result
    return out


def headline(prefix: str) -> List[str]:
    """config | data | micro F | macro F | CPU, mean ± sd over the seeds found."""
    seeds = seed_results()
    header = ["config", "data", "micro F", "macro F", "CPU", "seeds", "command"]
    config = link("`cnn_crf`", "configs/cnn_crf.cfg", prefix)
    if not seeds:
        row = [config, "CLUENER2020 dev", "–", "–", "–", f"0 of {len(SEEDS)} seeds", command("seeds", prefix)]
        return table(header, [row])
    folder = "benchmarks/results/seeds/"
    micro = link(mean_spread([r["ents_f"] for r in seeds.values()]), folder, prefix)
    macro = link(mean_spread([r["ents_macro_f"] for r in seeds.values()]), folder, prefix)
    cpus = ", ".join(sorted({r["run"]["cpu"] for r in seeds.values()}))
    files = ", ".join(link(str(s), rel(RESULTS / "seeds" / f"cnn_crf-cluener-dev-seed{s}.json"), prefix) for s in seeds)
    row = [config, "CLUENER2020 dev", micro, macro, cpus, f"{files} ({len(seeds)} of {len(SEEDS)} seeds)",
           command("seeds", prefix)]
    return table(header, [row])


def seeds_detail(prefix: str) -> List[str]:
    seeds = seed_results()
    if not seeds:
        return [f"No seed has been recorded yet: run {command('seeds', prefix)}."]
    rows = []
    for seed, r in seeds.items():
        run = r["run"]
        rows.append([link(str(seed), rel(RESULTS / "seeds" / f"cnn_crf-cluener-dev-seed{seed}.json"), prefix),
                     pct(r["ents_p"]), pct(r["ents_r"]), pct(r["ents_f"]), pct(r["ents_macro_f"]),
                     run["cpu"], str(run["threads"]), f"`{run['commit']}`"])
    lines = table(["seed", "P", "R", "micro F", "macro F", "CPU", "threads", "commit"], rows)
    per_type: Dict[str, List[float]] = {}
    for r in seeds.values():
        for label, scores in r.get("ents_per_type", {}).items():
            per_type.setdefault(label, []).append(scores["f"])
    if per_type:
        order = sorted(per_type, key=lambda label: -statistics.mean(per_type[label]))
        lines += ["", f"F per type over the same {len(seeds)} of {len(SEEDS)} seeds:", ""]
        lines += table(["type", "F"], [[f"`{label}`", mean_spread(per_type[label])] for label in order])
    return lines


def ablation(prefix: str) -> List[str]:
    configs = sorted((BENCHMARKS / "configs" / "ablation").glob("*.cfg"))
    rows = []
    for cfg in configs:
        path = RESULTS / "ablation" / f"{cfg.stem}.json"
        r = load(path)
        what = cfg.read_text(encoding="utf8").splitlines()[0].removeprefix("# Ablation: ").rstrip(".")
        name = link(f"`{cfg.stem}`", rel(cfg), prefix)
        if r is None:
            rows.append([name, what, "not yet rerun", "", ""])
        else:
            rows.append([name, what, link(pct(r["ents_f"]), rel(path), prefix), link(pct(r["ents_macro_f"]), rel(path), prefix),
                         f"{r['run']['cpu']}, `{r['run']['commit']}`"])
    return table(["config", "change", "micro F", "macro F", "CPU, commit"], rows)


def crf_cost(prefix: str) -> List[str]:
    path = RESULTS / "crf_cost.json"
    r = load(path)
    if r is None:
        return [f"Not yet run: {command('crf-cost', prefix)}."]
    src = link(rel(path), rel(path), prefix)
    cpu = r["cpu_time_chars_per_s"]
    heads = ["crf_ner", "crf_ner_torchcrf", "ner", "softmax"]
    rows = [[f"`{h}`", num(r["inference_chars_per_s"][h]), num(r["train_chars_per_s"][h]),
             num(cpu["inference"][h]), num(cpu["train"][h])] for h in heads if h in cpu["inference"]]
    m = r["machine"]
    lines = [f"{r['settings']['n_docs']} CLUENER dev docs, {m['torch_threads']} thread, {m['cpu_model']}, "
             f"load average {m['loadavg_start'][0]:.1f} → {m['loadavg_end'][0]:.1f} ({src}; "
             f"{command('crf-cost', prefix)}). Characters per second, wall clock and per process CPU second:", ""]
    lines += table(["head", "inference", "training", "inference (CPU time)", "training (CPU time)"], rows)
    goals = r["goals_cpu_time"]
    lines += ["", "By CPU time: `crf_ner`'s training cost is "
              f"{goals['train_cost_vs_softmax']:.2f}× the softmax head's "
              f"({goals['train_cost_vs_softmax_torchcrf']:.2f}× with pytorch-crf's likelihood), its inference cost "
              f"{goals['inference_cost_vs_softmax']:.2f}× the softmax head's, and it infers "
              f"{goals['inference_vs_ner']:.2f}× as fast as `ner`. Viterbi is {pct(r['viterbi_share'])} % of "
              f"`crf_ner`'s own predict time; entity scores add {pct(r['confidence_cost_share'])} % to it.", ""]
    rows = [[shape, str(row["batch"]), f"{row['mean_length']:.1f}", f"{row['pytorch_crf_ms']:.1f}",
             f"{row['crf_log_likelihood_ms']:.1f}", f"{row['speedup']:.1f}×"] for shape, row in r["normalizer_ms"].items()]
    lines += ["The likelihood alone, forward + backward, 41 BIOES tags (ms per batch):", ""]
    lines += table(["batch", "docs", "mean length", "pytorch-crf", "`crf_log_likelihood`", "speed-up"], rows)
    return lines


def lexicon_cost(prefix: str) -> List[str]:
    path = RESULTS / "lexicon_cost.json"
    r = load(path)
    if r is None:
        return [f"Not yet run: {command('lexicon-cost', prefix)}."]
    names = {"no_lexicon": "characters + bigrams, no lexicon", "lexicon_sets": "+ word sets (`pos_classes = false`)",
             "lexicon": "+ sets + POS classes (default)"}
    base = r["no_lexicon"]

    def cell(row: dict, key: str) -> str:
        return f"{num(row[key])} ({row[key] / base[key]:.2f}×)"

    rows = [[name, cell(r[key], "train_cpu_chars_per_s"), cell(r[key], "inference_cpu_chars_per_s")]
            for key, name in names.items()]
    lines = [f"{r['n_docs']} CLUENER dev docs, one thread, characters per process CPU second "
             f"({link(rel(path), rel(path), prefix)}; {command('lexicon-cost', prefix)}):", ""]
    lines += table(["`configs/cnn_crf.cfg`", "training", "inference"], rows)
    lines += ["", f"The matching alone: {num(r['match_chars_per_s'])} characters/s "
              f"({r['matches_per_char']:.2f} matches per character, {num(r['lexicon_words'])} dictionary words)."]
    return lines


def annotate_cost(prefix: str) -> List[str]:
    paths = sorted(RESULTS.glob("annotate_cost*.json"))
    if not paths:
        return [f"Not yet run: {command('annotate-cost', prefix)}."]
    lines = []
    for path in paths:
        r = load(path)
        m = r["machine"]
        lines += [f"{link(rel(path), rel(path), prefix)}: {r['settings']['n_records']:,} CLUENER train records "
                  f"({r['settings']['chars']:,} characters), shards of {r['settings']['shard_size']}, {m['cpu_model']}, "
                  f"load average {m['loadavg_start'][0]:.1f} → {m['loadavg_end'][0]:.1f}:", ""]
        rows = [[f"`{name}`", num(run["chars_per_s"]), num(run["steady_chars_per_s"]), num(run["chars_per_cpu_s"]),
                 f"{run['startup_s']:.1f}", f"{run['seconds']:.1f}"] for name, run in r["runs"].items()]
        lines += table(["run", "chars/s end to end", "chars/s steady", "chars per CPU second", "startup (s)", "time (s)"], rows)
        lines.append("")
    lines.append(f"Command: {command('annotate-cost', prefix)}.")
    return lines


def annotate_memory(prefix: str) -> List[str]:
    path = RESULTS / "annotate_memory.json"
    r = load(path)
    if r is None or not r.get("memory"):
        return [f"Not yet run: {command('annotate-cost', prefix)}."]
    rows = [[f"`{key.split()[0]}`", f"{run['records']:,}", f"{run['driver_peak_rss_mb']:.0f}",
             " / ".join(f"{mb:.0f}" for mb in run["worker_peak_rss_mb"]) or "–", f"{run['seconds']:.0f}"]
            for key, run in r["memory"].items()]
    lines = [f"Peak RSS in MB, each run in a fresh process ({link(rel(path), rel(path), prefix)}; "
             f"{command('annotate-cost', prefix)}):", ""]
    return lines + table(["engine", "records", "driver", "workers (as sampled)", "time (s)"], rows)


def confidence_cost(prefix: str) -> List[str]:
    path = RESULTS / "confidence_cost.json"
    r = load(path)
    if r is None:
        return [f"Not yet run on a trained pipeline: {command('confidence-cost', prefix)}. "
                "The share measured by `crf-cost` on its own small model is in the CRF table above."]
    return [f"Entity scores add {pct(r['confidence_cost_share'])} % to `crf_ner`'s predict time "
            f"({r['n_docs']} docs, {r['run']['cpu']}; {link(rel(path), rel(path), prefix)}; {command('confidence-cost', prefix)})."]


def _ece(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.4f}"


def _recall(target: dict) -> str:
    return "none" if target["threshold"] is None else f"{pct(target['r'])} (t = {target['threshold']:.4f})"


def calibration(prefix: str) -> List[str]:
    path = RESULTS / "calibration.json"
    r = load(path)
    if r is None:
        return [f"Not yet run on a trained pipeline: {command('calibration', prefix)}."]
    before, after, split = r["heldout_before"], r["heldout_after"], r["split"]
    maps = ", ".join(f"`{k}` {v}" for k, v in sorted(r["maps"].items())) or "none"
    lines = [
        f"`calibrate` fitted on {split['fit_docs']} of {split['n_docs']} docs of CLUENER dev (seed {split['seed']}): "
        f"temperature {r['temperature']['temperature']:.3f}; per-type maps: {maps}. Figures on the "
        f"{split['heldout_docs']} held-out docs only ({r['run']['cpu']}, commit {r['run']['commit']}; "
        f"{link(rel(path), rel(path), prefix)}; {command('calibration', prefix)}). The noise floor is the mean ECE "
        "of a perfectly calibrated scorer with the same scores and as many entities.",
        "",
    ]
    rows = [["overall", str(after["n_entities"]), _ece(before["ece"]), _ece(after["ece"]), _ece(after["ece_noise_floor"])]]
    for label in sorted(after["per_type"]):
        a = after["per_type"][label]
        b = before["per_type"].get(label, {})
        rows.append([f"`{label}`", str(a["n"]), _ece(b.get("ece")), _ece(a["ece"]), _ece(a["ece_noise_floor"])])
    lines += table(["entities", "n", "ECE before", "ECE after", "noise floor"], rows)
    target = after["target"]["target_precision"]
    lines += ["", f"Recall at precision ≥ {pct(target)} %: {_recall(before['target'])} before, "
                  f"{_recall(after['target'])} after."]
    bins = [b for b in after["bins"] if b["n"]]
    lines += ["", "Reliability (held-out half, after):", ""]
    lines += table(["score bin", "entities", "mean score", "exact-match accuracy"],
                   [[f"{b['lo']:.1f}–{b['hi']:.1f}", str(b["n"]), f"{b['confidence']:.3f}", f"{b['accuracy']:.3f}"]
                    for b in bins])
    return lines


def long_doc_memory(prefix: str) -> List[str]:
    path = RESULTS / "long_doc_memory.json"
    r = load(path)
    if r is None:
        return [f"Not yet rerun: {command('long-doc-memory', prefix)}."]
    rows = []
    for block in r["pipelines"].values():
        for run in block["runs"]:
            rows.append([block["pipeline"], f"{run['chars']:,}", f"{run['loaded_rss_mb']:.0f}", f"{run['peak_rss_mb']:.0f}"])
    lines = [f"Peak RSS in MB of one `nlp(text)` ({link(rel(path), rel(path), prefix)}; {command('long-doc-memory', prefix)}):", ""]
    return lines + table(["pipeline", "characters", "loaded", "peak"], rows)


BLOCKS: Dict[str, Dict[str, Callable[[str], List[str]]]] = {
    "README.md": {"HEADLINE": headline},
    "docs/results.md": {
        "HEADLINE": headline,
        "SEEDS": seeds_detail,
        "ABLATION": ablation,
        "CRF-COST": crf_cost,
        "CONFIDENCE-COST": confidence_cost,
        "CALIBRATION": calibration,
        "LEXICON-COST": lexicon_cost,
        "ANNOTATE-COST": annotate_cost,
        "ANNOTATE-MEMORY": annotate_memory,
        "LONG-DOC-MEMORY": long_doc_memory,
    },
}
START = "<!-- COLLATE: {name} START (generated by benchmarks/scripts/collate_results.py; do not edit) -->"
END = "<!-- COLLATE: {name} END -->"


def collate(text: str, blocks: Dict[str, Callable[[str], List[str]]], prefix: str) -> str:
    for name, build in blocks.items():
        start, end = START.format(name=name), END.format(name=name)
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
        if pattern.search(text) is None:
            raise SystemExit(f"collate_results: no {start!r} ... {end!r} markers")
        body = "\n".join([start, *build(prefix), end])
        match = pattern.search(text)
        text = text[: match.start()] + body + text[match.end():]
    return text


def main(check: bool = typer.Option(False, "--check", help="exit 1 when a committed table differs")) -> None:
    stale = []
    for doc, blocks in BLOCKS.items():
        path = REPO / doc
        prefix = "../" * doc.count("/")
        old = path.read_text(encoding="utf8")
        new = collate(old, blocks, prefix)
        if new != old:
            stale.append(doc)
            if not check:
                path.write_text(new, encoding="utf8")
    if check and stale:
        typer.echo(f"collate_results: out of date: {', '.join(stale)}; run python benchmarks/scripts/collate_results.py",
                   err=True)
        sys.exit(1)
    typer.echo("collate_results: " + ("up to date" if not stale else f"rewrote {', '.join(stale)}"))


if __name__ == "__main__":
    run_script(main)
