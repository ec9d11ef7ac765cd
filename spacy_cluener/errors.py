"""Errors and warnings with codes, in the style of `spacy.errors`."""
from spacy.errors import ErrorsWithCodes, filter_warning


class Warnings(metaclass=ErrorsWithCodes):
    W001 = ("{n} doc(s) in this batch have no usable gold tag (every token missing or "
            "misaligned, or known tags that no legal tag path agrees with), so they are "
            "left out of the loss. Docs with some tags missing train on the known ones.")
    W002 = "The report's micro F {ours} differs from spaCy's ents_f {spacy} on the same examples."
    W003 = ("The {n} example(s) being scored have no gold entities at all, so every entity "
            "score is 0 or missing and says nothing about the model. An evaluation or dev "
            "corpus needs annotated entities: check [paths.dev] (an unlabelled file such as "
            "CLUENER test.json converts to docs without entities).")
    W004 = ("{n} user-dictionary word(s) longer than max_word_length={max_length} were left "
            "out of the lexicon (e.g. {example!r}): raise "
            "[components.tok2vec.model.embed.lexicon] max_word_length to keep them.")
    W005 = ("Training {name} drops its calibration (temperature and per-type maps), which was fitted to "
            "the weights before this update and no longer holds: its scores are the raw CRF marginals "
            "until you run `python -m spacy_cluener calibrate` on the trained pipeline again.")
    W006 = ("spacy_cluener.CharNgramEmbed reads each token as one character, as spaCy's zh tokenizer "
            "with segmenter = \"char\" makes them, but got a doc with a token of {n} characters "
            "({token!r}): word tokens (jieba, pkuseg, Doc(words=...)) get no useful features from "
            "a character model, so its entities are unreliable. Make docs with nlp.make_doc(text) "
            "or nlp(text), or train on docs tokenized the same way. Shown once per process.")
    W007 = ("calibrate: the model predicts no scored entity on the fit half of the data ({n} docs), so "
            "there is nothing to fit: the output is an uncalibrated copy (temperature 1, no maps). Is the "
            "data a gold corpus of the model's kind, and is the model trained?")


def setup_default_warnings() -> None:
    """As spaCy's own: W003 comes from the scorer, which training calls at
    every evaluation, and W006 from the encoder, which sees every batch, so
    they are shown once per process."""
    filter_warning("once", error_msg="[W003]")
    filter_warning("once", error_msg="[W006]")


class Errors(metaclass=ErrorsWithCodes):
    E001 = "Unknown tag scheme '{scheme}'. Choose one of: {allowed}."
    E002 = "Ill-formed tag '{tag}': expected 'O' or PREFIX-LABEL such as 'B-PER'."
    E003 = "Tag '{tag}' has a prefix that the {scheme} scheme does not use."
    E004 = ("The crf_ner component has no labels. Train it with a corpus that has "
            "entities, or give labels in [initialize.components.crf_ner.labels].")
    E005 = ("Cannot add label '{label}' to crf_ner after it was initialized: the CRF's "
            "transition matrix is sized for {labels}. Retrain with the new label.")
    E006 = ("crf_ner was initialized without examples: pass get_examples returning "
            "at least one Example so the model's input width can be inferred.")
    # E007 was the incomplete-gold message, now the warning W001.
    E008 = "Unknown input format '{fmt}'. Choose one of: {allowed}."
    E009 = ("Component '{component}' reads its transformer weights from '{path}', which is "
            "not a directory. Give a directory with config.json, the weights and vocab.txt "
            "(scripts/train.py --bert DIR, or --components.{component}.model.name DIR), "
            "or a Hugging Face hub name.")
    E010 = ("The conversion report does not balance (read != written + rejected): "
            "{summary}. This is a bug in the converter; please report it.")
    E011 = "Entity labels must be strings, got {label!r}."
    E012 = ("crf_ner: the tok2vec layer has no output width (nO) set, and the saved cfg "
            "has no 'nI'. Set the tok2vec's width in the config.")
    E013 = ("crf_ner: gold entity tag {tag!r} is not among the model's labels {labels}. "
            "Re-initialize with the corpus' labels.")
    E014 = ("{layer}: cannot infer the input width without sample input. Initialize the "
            "pipeline with examples (nlp.initialize(get_examples)).")
    E015 = "crf_head: call set_tag_names before initializing the model."
    E016 = ("Pipeline '{model}' has no transformer component ({pipes}): debug-alignment "
            "checks what a transformer feeds the CRF. Give a transformer pipeline or "
            "configs/trf_crf.cfg.")
    E017 = ("Cannot load crf_ner: {path} {problem}. The pipeline directory is incomplete or "
            "damaged: copy it again, or retrain.")
    E062 = ("Cannot load crf_ner: {path} holds weights of another model structure than the "
            "config.cfg beside it builds ({err}). The pipeline's [components.crf_ner.model] was "
            "changed after it was saved, e.g. by nlp.replace_listeners on a CRFTagger.v1 whose "
            "listener sits inside BiLSTMOnTok2Vec (spaCy rewrites only model.tok2vec: use "
            "CRFTagger.v2 with the BiLSTM as its encoder). Restore the config it was saved with.")
    E064 = ("{name}.rehearse: the model reads its token vectors through a {listener}, which gets "
            "none in nlp.rehearse (spaCy's ner fails here too, with E953). Give crf_ner its own "
            "copy of the encoder first: nlp.replace_listeners(\"tok2vec\", \"{name}\", "
            "[\"model.tok2vec\"]) (\"transformer\" for a transformer pipeline), then "
            "nlp.resume_training().")
    E018 = ("Cannot load crf_ner: the labels in {path} ({labels}) do not match the tag list "
            "the weights were trained with (checksum {stored}, these labels give {found}). "
            "Labels were renamed or reordered; restore the cfg the model was saved with.")
    E019 = ("crf_ner: threshold {threshold} is not a probability; give a value in [0, 1] "
            "(0.0 keeps every Viterbi entity in doc.ents).")
    E020 = ("crf_ner: threshold {threshold} needs the entity scores; set scores = true "
            "(or threshold = 0.0).")
    E021 = "No input file matches '{pattern}'."
    E022 = "Input '{path}' {problem}."
    E023 = ("Input '{path}' changed while it was annotated (it had {size} bytes when the run "
            "was planned). Annotate a copy that does not change, into a new directory.")
    E024 = ("Parquet input or output needs pyarrow: pip install -e \".[ray]\" (or pip install pyarrow).")
    E025 = "Another annotate run is writing to {path} (it holds {path}/_annotate.lock). Wait for it, or choose another directory."
    E026 = ("{path} holds a run with other inputs or settings: {diffs}. Rerun with the same "
            "model, inputs and settings (--shard-size, --format, --no-scores, --max-length) to finish it, "
            "or choose another directory.")
    E027 = "Cannot read {path} ({problem}): the output directory is damaged; choose another directory."
    E028 = ("Cannot find the pipeline '{model}': it is neither a pipeline directory nor an installed "
            "package. Every worker loads it by this name, so install it (or put it on shared storage) "
            "on every node.")
    E029 = "{what} must be at least 1, not {value}."
    E030 = ("--engine local annotates in this process and takes no --workers ({workers}): use "
            "--engine ray --workers {workers}.")
    E031 = "Input '{path}' is inside the output directory {out_dir}: choose another output directory."
    E032 = "The engine returned shard '{shard}', which this run did not ask for. This is a bug; please report it."
    E033 = ("{n} shard(s) were not annotated (first: {first}); the finished ones are recorded. "
            "Rerun the same command to finish them.")
    E034 = ("--engine ray needs Ray Data: pip install -e \".[ray]\" (or pip install \"ray[data]\" pyarrow).")
    E035 = ("The Ray run failed: {error}. The shards finished so far are recorded; rerun the "
            "same command to finish the others.")
    E036 = "Unknown engine '{engine}'. Choose one of: {allowed}."
    E037 = ("ChunkedTok2Vec: chunk_size {chunk_size} must be more than twice the overlap "
            "{overlap}, and the overlap 0 or more: each window keeps its centre, "
            "chunk_size - 2 x overlap tokens.")
    E038 = ("ChunkedTok2Vec: no gradient for a prediction made in windows or by its ONNX graph (is_train=False). "
            "Call the model with is_train=True to train it.")
    # E039-E044: lexicon features
    E039 = ("{path}:{line}: not UTF-8 ({err}); save the dictionary as UTF-8 (jieba's "
            "format), e.g. iconv -f GBK -t UTF-8.")
    E040 = ("The lexicon's dictionary is \"jieba\", but jieba is not installed: "
            "pip install jieba (needed to train; a trained pipeline carries its dictionary), "
            "or give a dictionary file or null.")
    E041 = ("{path}:{line}: not a dictionary line (expected 'word [freq] [tag]', "
            "jieba's format): {text!r}")
    E042 = ("{where}dictionary word {word!r} has frequency {freq}: frequencies must be "
            "finite, >= 0 and at most 3.4e38 (float32).")
    E043 = "Dictionary file {path} does not exist (components.tok2vec.model.embed.lexicon)."
    E044 = "Dictionary tag {tag!r} must be letters or '_' (a jieba POS tag such as nr, ns, nt, nz)."
    # E045-E049: debug-alignment
    E045 = ("--model-name applies to a config; the pipeline directory {model} has its own weights: "
            "drop --model-name, or pass the training config instead.")
    E046 = ("{model} has no component with factory 'transformer', so --model-name has nothing to "
            "replace: give a transformer config (e.g. configs/trf_crf.cfg).")
    # E050-E059: crf_ner settings and labels
    E050 = "crf_ner: spans_key must be a non-empty string, not {value!r}."
    E051 = "crf_ner: temperature must be above 0, not {value!r}."
    E052 = ("crf_ner: label {label!r} is spaCy's deprecated negative-entity format ('!' prefix); "
            "give negative examples as missing tags or use another label name.")
    # E053: annotate (with E021-E036)
    E053 = ("{path} holds {n} file(s) (first: {first}) but no _plan.json: it is not an annotate "
            "output directory, whose files a run writes and deletes. Give a new or empty directory.")
    # E054-E059: annotate and the commands' inputs (issue 24)
    E054 = "{path} is a file, not a directory: OUTPUT_DIR is the directory annotate writes its shards into."
    E055 = ("{rejected:,} of {total:,} records were rejected, more than --max-rejected {limit:,}; no _SUCCESS "
            "was written (first: {first}). Fix the inputs, or rerun with a higher --max-rejected to accept them.")
    E056 = ("every one of the {rejected:,} records was rejected (first: {first}); no _SUCCESS was written. "
            "Check the inputs' format and encoding (UTF-8 JSON lines, or Parquet), or rerun with "
            "--max-rejected {rejected} to accept an empty result.")
    E057 = ("--num-gpus {num_gpus} is for --engine ray (GPUs per Ray worker); --engine local runs on "
            "this process's CPU: drop --num-gpus, or use --engine ray.")
    E058 = ("Cannot reach the Ray cluster at {address} ({problem}) within {seconds:g} s: is it running, "
            "and is the address right (HOST:PORT of the head's GCS, 6379 by default, or ray://HOST:10001)?")
    # E060-E069: calibrate, Label Studio / doccano (issue 26)
    E060 = "calibrate: {what}."
    E061 = ("calibrate: DATA has {n} doc(s); it needs at least 2 (one half fits the calibration, the other "
            "is held out to measure it), and in practice hundreds with gold entities (e.g. a dev set).")
    E063 = "calibrate: OUTPUT {path} {problem}: give a new directory (the input pipeline is never overwritten)."
    E065 = ("{path}: not a {fmt} export ({problem}). Label Studio: export JSON (a list of tasks with "
            "'data' and 'annotations'); doccano: export JSONL (one object per line with 'text' and "
            "'label' or 'entities').")
    # E070-E074: prediction speed (issue 27)
    E070 = ("crf_ner: no gradient for emissions predicted with is_train=False (the CPU prediction path "
            "of the emission layer). Call the model with is_train=True to train it.")
    # E075-E079: quantize and the int8 transformer (issue 28)
    E075 = ("{model} has no component with factory 'transformer' (pipeline: {pipeline}): quantize makes "
            "the BERT of a transformer pipeline (configs/trf_crf.cfg) int8; a CNN pipeline "
            "(configs/cnn_crf.cfg) is already small and fast on CPU, use it as it is.")
    E076 = ("The int8 transformer cannot run here: {problem}.")
    E077 = ("{path} already exists: quantize writes a new pipeline directory and never overwrites one. "
            "Give a path that does not exist yet, or remove it first.")
    E078 = ("Cannot quantize the component '{name}' of {model}: its model is {arch}, and quantize "
            "converts {allowed}.{hint}")
    E079 = ("The int8 transformer (quantize's output) is for inference: its "
            "int8 Linear layers have no gradient, so it cannot be updated. Train the fp32 pipeline and "
            "quantize it again, or freeze the transformer ([training] frozen_components and "
            "annotating_components) to train only the components after it.")
    E080 = ("The ONNX transformer (quantize --runtime onnx) needs {package}, which is not installed: "
            "pip install spacy-cluener[onnx] (onnxruntime to run it, onnx to export it).")
    E081 = ("An ONNX transformer (spacy_cluener.OnnxTransformerModel.v1) is made from a trained fp32 pipeline "
            "by `python -m spacy_cluener quantize MODEL OUTPUT --runtime onnx`; it cannot be initialized or "
            "trained. Train with spacy-transformers.TransformerModel.v3, then quantize.")
    E082 = ("spacy_cluener.ChunkedTok2Vec (v2, v3) with onnx = {mode!r} needs {package}, which is not installed: "
            "pip install spacy-cluener[onnx], or set onnx = \"off\".")
    E083 = ("spacy_cluener.ChunkedTok2Vec (v2, v3) cannot compile this tok2vec to ONNX: {problem}. The graph covers "
            "spacy_cluener.CharNgramEmbed (with or without SoftLexicon) + spacy.MaxoutWindowEncoder.v2 "
            "(configs/cnn_crf.cfg); set onnx = \"off\" for other layers.")
    # E086-E089: convert (issue: the converters' probe)
    E086 = ("{path}: every one of the {n:,} records was rejected (first: line {line}: {reason}); nothing written. "
            "Check the file's --format and its encoding (UTF-8), or fix the records.")
    E087 = ("{path}:{line}: not {fmt} JSON lines: the file is a JSON array ('[' where the first record "
            "should start), which would be rejected line by line. Give one JSON object per line "
            "(e.g. jq -c '.[]' ARRAY.json > LINES.jsonl){hint}.")
    # E084: crf_ner and the component it listens to
    E084 = ("{name}: its model listens to {upstream}, which did not run on this doc: its "
            "vectors would be zeros and the entities nonsense. Run the whole pipeline rather than {name} on its "
            "own, and do not disable or exclude the {kind} (select_pipes, spacy.load(exclude=...)).")
