"""The supported question-answering architectures, declared once and read by every stage.

Like Optimum's per-model ``OnnxConfig`` classes, one :class:`Architecture` per ``model_type`` says
which transformers classes load it, which inputs the model takes (so the SavedModel signature, the
ONNX and TF.js inputs, the manifest, the Python runners and the Node.js runtimes all agree on
whether ``token_type_ids`` is fed), the axes that stay dynamic, the special tokens and the tokenizer
family the decoding must handle, and where the activation that the erf-GELU fix replaces lives.

``RANDOM_MODELS`` are the ``--model random:<name>`` configurations: full-size ones with the real
hyper-parameters and vocabulary sizes of the public checkpoints (random weights, offline tokenizers
padded to the real vocabulary size, so shapes and costs are real) and tiny ones for tests.

Nothing here imports TensorFlow or transformers: the manifest, validation and the npm packaging read
this table cheaply; :mod:`convert.sources` resolves the class names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS = "input_ids", "attention_mask", "token_type_ids"
ALL_INPUTS = (INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS)
DEFAULT_INPUTS = (INPUT_IDS, ATTENTION_MASK)  # what a manifest without "inputs" (DistilBERT, before) means
DYNAMIC_AXES = {0: "batch", 1: "sequence"}

TOKENIZER_FAMILIES = ("wordpiece", "bpe", "sentencepiece")


@dataclass(frozen=True)
class SpecialTokens:
    cls: str
    sep: str
    pad: str
    unk: str
    mask: str
    # between question and context: "[SEP]" for BERT-style pairs, "</s></s>" for RoBERTa
    pair_separator: str


@dataclass(frozen=True)
class Architecture:
    model_type: str  # config.json's model_type
    qa_class: str  # transformers TF class that loads a QA checkpoint
    config_class: str
    tokenizer_class: str  # the fast tokenizer class
    inputs: tuple[str, ...]  # model inputs, in signature order
    tokenizer_family: str  # wordpiece | bpe (byte-level) | sentencepiece (unigram)
    special_tokens: SpecialTokens
    activation_key: str  # config key naming the feed-forward activation ("gelu" needs the erf fix)
    activation_attrs: tuple[str, ...]  # layer attributes holding that activation function
    pytorch_class: str  # the name in config.json "architectures" of a QA checkpoint
    max_positions_key: str = "max_position_embeddings"

    @property
    def uses_token_type_ids(self) -> bool:
        return TOKEN_TYPE_IDS in self.inputs

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        """ONNX-style dynamic axes of every input and output (both logits are [batch, sequence])."""
        return {name: dict(DYNAMIC_AXES) for name in (*self.inputs, "start_logits", "end_logits")}

    def as_manifest(self) -> dict[str, Any]:
        """What manifest.json records: enough for validation and Node.js to know what to feed."""
        return {
            "model_type": self.model_type,
            "qa_class": self.qa_class,
            "tokenizer_family": self.tokenizer_family,
            "inputs": list(self.inputs),
            "special_tokens": {
                "cls": self.special_tokens.cls,
                "sep": self.special_tokens.sep,
                "pad": self.special_tokens.pad,
            },
        }


_BERT_TOKENS = SpecialTokens("[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]", "[SEP]")
_ROBERTA_TOKENS = SpecialTokens("<s>", "</s>", "<pad>", "<unk>", "<mask>", "</s></s>")
_ALBERT_TOKENS = SpecialTokens("[CLS]", "[SEP]", "<pad>", "<unk>", "[MASK]", "[SEP]")

ARCHITECTURES: dict[str, Architecture] = {
    a.model_type: a
    for a in (
        Architecture(
            "distilbert",
            "TFDistilBertForQuestionAnswering",
            "DistilBertConfig",
            "DistilBertTokenizerFast",
            (INPUT_IDS, ATTENTION_MASK),
            "wordpiece",
            _BERT_TOKENS,
            activation_key="activation",
            activation_attrs=("activation",),  # TFFFN.activation
            pytorch_class="DistilBertForQuestionAnswering",
        ),
        Architecture(
            "bert",
            "TFBertForQuestionAnswering",
            "BertConfig",
            "BertTokenizerFast",
            (INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS),
            "wordpiece",
            _BERT_TOKENS,
            activation_key="hidden_act",
            activation_attrs=("intermediate_act_fn",),  # TFBertIntermediate
            pytorch_class="BertForQuestionAnswering",
        ),
        Architecture(
            "roberta",
            "TFRobertaForQuestionAnswering",
            "RobertaConfig",
            "RobertaTokenizerFast",
            (INPUT_IDS, ATTENTION_MASK),  # type_vocab_size 1: RoBERTa takes no token types
            "bpe",
            _ROBERTA_TOKENS,
            activation_key="hidden_act",
            activation_attrs=("intermediate_act_fn",),  # TFRobertaIntermediate
            pytorch_class="RobertaForQuestionAnswering",
        ),
        Architecture(
            "mobilebert",
            "TFMobileBertForQuestionAnswering",
            "MobileBertConfig",
            "MobileBertTokenizerFast",
            (INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS),
            "wordpiece",
            _BERT_TOKENS,
            activation_key="hidden_act",
            activation_attrs=("intermediate_act_fn",),  # TFMobileBertIntermediate
            pytorch_class="MobileBertForQuestionAnswering",
        ),
        Architecture(
            "albert",
            "TFAlbertForQuestionAnswering",
            "AlbertConfig",
            "AlbertTokenizerFast",
            (INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS),
            "sentencepiece",
            _ALBERT_TOKENS,
            activation_key="hidden_act",
            activation_attrs=("activation",),  # TFAlbertLayer.activation
            pytorch_class="AlbertForQuestionAnswering",
        ),
    )
}

SUPPORTED = ", ".join(ARCHITECTURES)
SUPPORTED_CLASSES = ", ".join(a.qa_class for a in ARCHITECTURES.values())


def architecture(model_type: str | None) -> Architecture:
    """The spec of ``model_type``; a KeyError whose message names the supported ones."""
    if model_type not in ARCHITECTURES:
        msg = f"model_type {model_type!r} is not supported; supported: {SUPPORTED}"
        raise KeyError(msg)
    return ARCHITECTURES[model_type]


def inputs_of(manifest: dict[str, Any]) -> tuple[str, ...]:
    """The model inputs an artifact directory's manifest records (older manifests: DistilBERT's two)."""
    arch = manifest.get("architecture") or {}
    return tuple(arch.get("inputs") or DEFAULT_INPUTS)


@dataclass(frozen=True)
class RandomModel:
    """A ``random:<name>`` model: seeded weights of ``config`` and an offline tokenizer (qaport.offline_tokenizers)."""

    name: str
    model_type: str
    config: dict[str, Any]
    lowercase: bool = False
    tiny: bool = False
    note: str = ""
    tokenizer: dict[str, Any] = field(default_factory=dict)  # extra offline_tokenizer() arguments

    @property
    def arch(self) -> Architecture:
        return ARCHITECTURES[self.model_type]

    @property
    def vocab_size(self) -> int:
        return int(self.config["vocab_size"])


_TINY_BERT = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "max_position_embeddings": 512,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}

RANDOM_MODELS: dict[str, RandomModel] = {
    m.name: m
    for m in (
        # -- full size: the public checkpoints' hyper-parameters and vocabulary sizes -------------
        RandomModel(
            "distilbert-base-cased",
            "distilbert",
            {
                "vocab_size": 28996,
                "dim": 768,
                "n_layers": 6,
                "n_heads": 12,
                "hidden_dim": 3072,
                "max_position_embeddings": 512,
                "activation": "gelu",
            },
        ),
        RandomModel(
            "bert-base-cased",
            "bert",
            {
                "vocab_size": 28996,
                "hidden_size": 768,
                "num_hidden_layers": 12,
                "num_attention_heads": 12,
                "intermediate_size": 3072,
                "hidden_act": "gelu",
                "max_position_embeddings": 512,
                "type_vocab_size": 2,
                "pad_token_id": 0,
            },
        ),
        RandomModel(
            "bert-base-uncased",
            "bert",
            {
                "vocab_size": 30522,
                "hidden_size": 768,
                "num_hidden_layers": 12,
                "num_attention_heads": 12,
                "intermediate_size": 3072,
                "hidden_act": "gelu",
                "max_position_embeddings": 512,
                "type_vocab_size": 2,
                "pad_token_id": 0,
            },
            lowercase=True,
        ),
        RandomModel(
            "roberta-base",
            "roberta",
            {
                "vocab_size": 50265,
                "hidden_size": 768,
                "num_hidden_layers": 12,
                "num_attention_heads": 12,
                "intermediate_size": 3072,
                "hidden_act": "gelu",
                "max_position_embeddings": 514,
                "type_vocab_size": 1,
                "pad_token_id": 1,
                "bos_token_id": 0,
                "eos_token_id": 2,
                "layer_norm_eps": 1e-5,
            },
            note="deepset/roberta-base-squad2's architecture",
        ),
        RandomModel(
            "mobilebert-uncased",
            "mobilebert",
            {
                "vocab_size": 30522,
                "hidden_size": 512,
                "embedding_size": 128,
                "num_hidden_layers": 24,
                "num_attention_heads": 4,
                "intermediate_size": 512,
                "hidden_act": "relu",
                "max_position_embeddings": 512,
                "type_vocab_size": 2,
                "true_hidden_size": 128,
                "intra_bottleneck_size": 128,
                "use_bottleneck": True,
                "use_bottleneck_attention": False,
                "key_query_shared_bottleneck": True,
                "num_feedforward_networks": 4,
                "normalization_type": "no_norm",
                "trigram_input": True,
                "classifier_activation": False,
                "pad_token_id": 0,
            },
            lowercase=True,
        ),
        RandomModel(
            "albert-base-v2",
            "albert",
            {
                "vocab_size": 30000,
                "embedding_size": 128,
                "hidden_size": 768,
                "num_hidden_layers": 12,
                "num_hidden_groups": 1,
                "num_attention_heads": 12,
                "intermediate_size": 3072,
                "inner_group_num": 1,
                "hidden_act": "gelu_new",
                "max_position_embeddings": 512,
                "type_vocab_size": 2,
                "hidden_dropout_prob": 0.0,
                "attention_probs_dropout_prob": 0.0,
                "pad_token_id": 0,
                "bos_token_id": 2,
                "eos_token_id": 3,
            },
            lowercase=True,
        ),
        # -- tiny: the same architectures, 2 layers, for tests (a convert + validate in a minute or two)
        RandomModel(
            "tiny-distilbert",
            "distilbert",
            {
                "vocab_size": 3000,
                "dim": 64,
                "n_layers": 2,
                "n_heads": 4,
                "hidden_dim": 128,
                "max_position_embeddings": 512,
                "activation": "gelu",
            },
            tiny=True,
        ),
        RandomModel(
            "tiny-bert",
            "bert",
            {**_TINY_BERT, "vocab_size": 3000, "hidden_act": "gelu", "type_vocab_size": 2, "pad_token_id": 0},
            tiny=True,
        ),
        RandomModel(
            "tiny-bert-uncased",
            "bert",
            {**_TINY_BERT, "vocab_size": 3000, "hidden_act": "gelu", "type_vocab_size": 2, "pad_token_id": 0},
            lowercase=True,
            tiny=True,
        ),
        RandomModel(
            "tiny-roberta",
            "roberta",
            {
                **_TINY_BERT,
                "vocab_size": 1200,
                "hidden_act": "gelu",
                "max_position_embeddings": 514,
                "type_vocab_size": 1,
                "pad_token_id": 1,
                "bos_token_id": 0,
                "eos_token_id": 2,
                "layer_norm_eps": 1e-5,
            },
            tiny=True,
        ),
        RandomModel(
            "tiny-mobilebert",
            "mobilebert",
            {
                "vocab_size": 3000,
                "hidden_size": 64,
                "embedding_size": 32,
                "num_hidden_layers": 2,
                "num_attention_heads": 4,
                "intermediate_size": 64,
                "hidden_act": "relu",
                "max_position_embeddings": 512,
                "type_vocab_size": 2,
                "true_hidden_size": 32,
                "intra_bottleneck_size": 32,
                "use_bottleneck": True,
                "use_bottleneck_attention": False,
                "key_query_shared_bottleneck": True,
                "num_feedforward_networks": 2,
                "normalization_type": "no_norm",
                "trigram_input": True,
                "classifier_activation": False,
                "hidden_dropout_prob": 0.0,
                "attention_probs_dropout_prob": 0.0,
                "pad_token_id": 0,
            },
            lowercase=True,
            tiny=True,
        ),
        RandomModel(
            "tiny-albert",
            "albert",
            {
                **_TINY_BERT,
                "vocab_size": 3000,
                "embedding_size": 32,
                "num_hidden_groups": 1,
                "inner_group_num": 1,
                "hidden_act": "gelu_new",
                "type_vocab_size": 2,
                "pad_token_id": 0,
                "bos_token_id": 2,
                "eos_token_id": 3,
            },
            lowercase=True,
            tiny=True,
        ),
    )
}

FULL_SIZE = tuple(n for n, m in RANDOM_MODELS.items() if not m.tiny)
TINY = tuple(n for n, m in RANDOM_MODELS.items() if m.tiny)
