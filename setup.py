from pathlib import Path

from setuptools import find_packages, setup

README = Path(__file__).parent / "README.md"

setup(
    name="spacy-cluener",
    version="0.1.0",
    description="Chinese NER for spaCy: a pytorch-crf CRF tagger on CNN or chinese-bert-wwm-ext",
    long_description=README.read_text(encoding="utf8") if README.exists() else "",
    long_description_content_type="text/markdown",
    author="zh_cluener_crf developers",
    url="https://github.com/zh-cluener-crf/zh_cluener_crf",
    license="MIT",
    packages=find_packages(include=["spacy_cluener", "spacy_cluener.*"]),
    python_requires=">=3.9",
    install_requires=[
        "spacy>=3.8,<3.9",
        "thinc>=8.3,<8.4",
        "spacy-transformers>=1.3,<1.5",
        "torch>=2.0",
        "pytorch-crf>=0.7.2,<0.8",
        "typer>=0.9",
        # dict.txt is the default dictionary of the lexicon features, read when
        # training starts; a trained pipeline carries its own copy
        "jieba>=0.42",
        # `report` draws its charts (per_type_f1.png, error_kinds.png, learning_curve.png)
        "matplotlib>=3.5",
    ],
    extras_require={
        # CuPy for spacy.prefer_gpu / --gpu-id, through spaCy's own extras
        "cuda12x": ["spacy[cuda12x]>=3.8,<3.9"],
        "cuda-autodetect": ["spacy[cuda-autodetect]>=3.8,<3.9"],
        # `quantize --runtime onnx`: onnxruntime runs the int8 BERT, onnx exports it
        "onnx": ["onnxruntime>=1.17", "onnx>=1.15"],
        "test": ["pytest", "hypothesis", "seqeval", "ruff", "onnxruntime>=1.17", "onnx>=1.15"],
        # `annotate --engine ray` (Ray Data's actor pools; from_items(override_num_blocks=) needs 2.10)
        # and Parquet input/output
        "ray": ["ray[data]>=2.10", "pyarrow"],
    },
    entry_points={
        "spacy_factories": ["crf_ner = spacy_cluener.components.crf_ner:make_crf_ner"],
        "spacy_architectures": [
            "spacy_cluener.CRFTagger.v1 = spacy_cluener.layers.crf_tagger:build_crf_tagger",
            "spacy_cluener.CRFTagger.v2 = spacy_cluener.layers.crf_tagger:build_crf_tagger_v2",
            "spacy_cluener.BiLSTMOnTok2Vec.v1 = spacy_cluener.layers.bilstm:build_bilstm_on_tok2vec",
            "spacy_cluener.BiLSTM.v1 = spacy_cluener.layers.bilstm:build_bilstm",
            "spacy_cluener.CharNgramEmbed.v1 = spacy_cluener.layers.char_ngram_embed:build_char_ngram_embed",
            "spacy_cluener.CharNgramEmbed.v2 = spacy_cluener.layers.char_ngram_embed:build_char_ngram_embed_v2",
            "spacy_cluener.SoftLexicon.v1 = spacy_cluener.layers.soft_lexicon:build_soft_lexicon",
            "spacy_cluener.ChunkedTok2Vec.v1 = spacy_cluener.layers.chunked_tok2vec:build_chunked_tok2vec",
            "spacy_cluener.ChunkedTok2Vec.v2 = spacy_cluener.layers.chunked_tok2vec:build_chunked_tok2vec_v2",
            "spacy_cluener.ChunkedTok2Vec.v3 = spacy_cluener.layers.chunked_tok2vec:build_chunked_tok2vec_v3",
            "spacy_cluener.QuantizedTransformerModel.v1 = "
            "spacy_cluener.layers.quantized_transformer:build_quantized_transformer_model",
            "spacy_cluener.QuantizedTransformerModel.v2 = "
            "spacy_cluener.layers.quantized_transformer:build_quantized_transformer_model_v2",
            "spacy_cluener.OnnxTransformerModel.v1 = spacy_cluener.layers.onnx_transformer:build_onnx_transformer_model",
        ],
        "spacy_scorers": [
            "spacy_cluener.entity_scorer.v1 = spacy_cluener.scoring:make_entity_scorer",
        ],
        "spacy_callbacks": [
            "spacy_cluener.time_budget.v1 = spacy_cluener.training.callbacks:make_time_budget",
            "spacy_cluener.init_frozen_transformer.v1 = spacy_cluener.training.callbacks:create_init_frozen_transformer",
            "spacy_cluener.numpy_blas.v1 = spacy_cluener.training.callbacks:create_numpy_blas",
        ],
        "spacy_loggers": ["spacy_cluener.JsonlLogger.v1 = spacy_cluener.training.loggers:make_jsonl_logger"],
        "spacy_optimizers": ["spacy_cluener.HeadAdam.v1 = spacy_cluener.training.optimizers:create_head_adam"],
        "console_scripts": ["spacy-cluener = spacy_cluener.cli:app"],
    },
)
