"""Fast tokenizers of every family qaport decodes, built here with no network and deterministically.

No model hub is reachable, so ``random:`` models (and decoding tests) use these::

    from qaport.offline_tokenizers import offline_tokenizer

    tok = offline_tokenizer("wordpiece", 28996)                     # cased, BertTokenizerFast
    tok = offline_tokenizer("wordpiece", 30522, lowercase=True)     # uncased (bert-base-uncased style)
    tok = offline_tokenizer("bpe", 50265)                           # byte-level BPE, RobertaTokenizerFast
    tok = offline_tokenizer("sentencepiece", 30000)                 # Unigram, AlbertTokenizerFast (lower-cased)
    tok = offline_tokenizer("wordpiece", 3000, tokenizer_class="DistilBertTokenizerFast")

Every tokenizer has exactly ``vocab_size`` entries (``len(tok) == vocab_size``), padded with tokens
that never occur in text (``[unused0]``..., ``<unused0>``...), so it fits a model of that vocabulary.

- ``wordpiece``: the embedded default model's cased WordPiece vocabulary
  (qaport/default_model/checkpoint/vocab.txt, 3,000 entries); ``lowercase=True`` lower-cases it (duplicates
  dropped, first kept) and lower-cases text, as bert-base-uncased does. ``[CLS] q [SEP] c [SEP]``.
- ``bpe``: byte-level BPE trained on a fixed embedded text (the default model's held-out SQuAD file and
  the Super Bowl paragraph), RoBERTa's special tokens (``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3,
  ``<mask>`` last), ``<s> q </s></s> c </s>``, ``add_prefix_space=False`` and ``trim_offsets=True`` as
  roberta-base's tokenizer.json has them.
- ``sentencepiece``: a Unigram model (pieces derived from the same WordPiece vocabulary, because
  tokenizers' UnigramTrainer is not deterministic) with ALBERT's pipeline (``<pad>``=0,
  ``<unk>``=1, ``[CLS]``=2, ``[SEP]``=3, ``[MASK]``=4; quotes normalised, NFKD, accents stripped,
  lower-cased, whitespace split, Metaspace ``▁`` prepended), ``[CLS] q [SEP] c [SEP]`` with token type
  ids 0 then 1. ``lowercase`` defaults to True, like albert-base-v2.

Built tokenizers are cached per arguments; each call returns a fresh copy (callers may reconfigure).
"""

from __future__ import annotations

import copy
import functools
import json
import tempfile
from pathlib import Path
from typing import Any

FAMILY_CLASSES = {
    "wordpiece": "BertTokenizerFast",
    "bpe": "RobertaTokenizerFast",
    "sentencepiece": "AlbertTokenizerFast",
}
ROBERTA_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
ALBERT_SPECIALS = ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]")
BERT_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
TRAIN_VOCAB = {"bpe": 1000}  # learned entries at most; the rest is padding


class OfflineTokenizerError(ValueError):
    """A vocabulary size the family cannot be built at (smaller than its learned or fixed vocabulary)."""


def training_text() -> list[str]:
    """The fixed embedded text the BPE and Unigram models are trained on (about 200 kB)."""
    from qaport.default_model import HELDOUT_PATH, SUPER_BOWL_CONTEXT, SUPER_BOWL_QUESTION

    doc = json.loads(Path(HELDOUT_PATH).read_text(encoding="utf-8"))
    texts = [SUPER_BOWL_CONTEXT, SUPER_BOWL_QUESTION]
    for article in doc["data"]:
        for para in article["paragraphs"]:
            texts.append(para["context"])
            texts += [qa["question"] for qa in para["qas"]]
    return texts


def offline_tokenizer(
    family: str, vocab_size: int, *, lowercase: bool | None = None, tokenizer_class: str | None = None
) -> Any:
    """A transformers fast tokenizer of ``family`` with exactly ``vocab_size`` tokens (see the module doc).

    ``lowercase`` defaults to False for wordpiece and bpe and True for sentencepiece; ``tokenizer_class``
    (a transformers fast class name) defaults to the family's: BertTokenizerFast, RobertaTokenizerFast,
    AlbertTokenizerFast.
    """
    if family not in FAMILY_CLASSES:
        msg = f"tokenizer family {family!r} is not one of {', '.join(FAMILY_CLASSES)}"
        raise OfflineTokenizerError(msg)
    if lowercase is None:
        lowercase = family == "sentencepiece"
    return copy.deepcopy(_build(family, vocab_size, lowercase, tokenizer_class or FAMILY_CLASSES[family]))


@functools.lru_cache(maxsize=16)
def _build(family: str, vocab_size: int, lowercase: bool, class_name: str) -> Any:
    import transformers

    cls = getattr(transformers, class_name)
    if family == "wordpiece":
        return _wordpiece(cls, vocab_size, lowercase)
    if family == "bpe":
        return _bpe(cls, vocab_size, lowercase)
    return _unigram(cls, vocab_size, lowercase)


def _check_room(family: str, learned: int, vocab_size: int) -> None:
    if learned > vocab_size:
        msg = f"the offline {family} vocabulary has {learned} entries; {vocab_size} cannot hold it"
        raise OfflineTokenizerError(msg)


def _wordpiece(cls: Any, vocab_size: int, lowercase: bool) -> Any:
    from qaport.default_model import CHECKPOINT_DIR

    vocab = (CHECKPOINT_DIR / "vocab.txt").read_text(encoding="utf-8").splitlines()
    if lowercase:
        seen: set[str] = set()
        lowered = []
        for tok in vocab:
            low = tok if tok in BERT_SPECIALS or (tok.startswith("[") and tok.endswith("]")) else tok.lower()
            if low not in seen:
                seen.add(low)
                lowered.append(low)
        vocab = lowered
    _check_room("wordpiece", len(vocab), vocab_size)
    vocab += [f"[unused{i}]" for i in range(vocab_size - len(vocab))]
    with tempfile.TemporaryDirectory() as tmp:
        vocab_file = Path(tmp) / "vocab.txt"
        vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
        return cls(vocab_file=str(vocab_file), do_lower_case=lowercase, model_max_length=512)


def _bpe(cls: Any, vocab_size: int, lowercase: bool) -> Any:
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    def pipeline(tok: Any) -> Any:
        if lowercase:
            tok.normalizer = normalizers.Lowercase()
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        return tok

    learned = min(TRAIN_VOCAB["bpe"], vocab_size - 1)  # one id is left for <mask>
    trainer = trainers.BpeTrainer(
        vocab_size=learned,
        special_tokens=list(ROBERTA_SPECIALS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    trained = pipeline(Tokenizer(models.BPE()))
    trained.train_from_iterator(training_text(), trainer)
    model = json.loads(trained.to_str())["model"]
    vocab: dict[str, int] = dict(sorted(model["vocab"].items(), key=lambda kv: kv[1]))
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in model["merges"]]
    _check_room("bpe", len(vocab) + 1, vocab_size)
    for i in range(vocab_size - len(vocab) - 1):
        vocab[f"<unused{i}>"] = len(vocab)
    vocab["<mask>"] = len(vocab)
    tok = pipeline(Tokenizer(models.BPE(vocab, merges)))
    tok.add_special_tokens([AddedToken(t, special=True) for t in ROBERTA_SPECIALS])
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True)])
    tok.post_processor = processors.RobertaProcessing(
        sep=("</s>", vocab["</s>"]), cls=("<s>", vocab["<s>"]), trim_offsets=True, add_prefix_space=False
    )
    return cls(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        add_prefix_space=False,
        trim_offsets=True,
        model_max_length=512,
    )


def _unigram(cls: Any, vocab_size: int, lowercase: bool) -> Any:
    """Unigram pieces derived from the default WordPiece vocabulary (deterministic, unlike UnigramTrainer).

    tokenizers' UnigramTrainer gives a different vocabulary from run to run (seen with 0.22 even with
    TOKENIZERS_PARALLELISM=false), so the pieces are taken from the fixed WordPiece vocabulary instead:
    a word-initial ``foo`` becomes ``▁foo``, a continuation ``##bar`` becomes ``bar``, single characters
    exist in both forms, and a piece's log-probability falls with its rank (the vocabulary's order), so
    Viterbi prefers few, frequent pieces as a trained model does.
    """
    import math

    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    from qaport.default_model import CHECKPOINT_DIR

    words = (CHECKPOINT_DIR / "vocab.txt").read_text(encoding="utf-8").splitlines()
    names: list[str] = [*ALBERT_SPECIALS, "▁"]
    seen = set(names)
    for word in words:
        if word in BERT_SPECIALS or (word.startswith("[") and word.endswith("]")):
            continue
        body = word[2:] if word.startswith("##") else word
        body = body.lower() if lowercase else body
        forms = [body] if word.startswith("##") else [f"▁{body}"]
        if len(body) == 1:
            forms = [f"▁{body}", body]
        for form in forms:
            if form not in seen:
                seen.add(form)
                names.append(form)
    _check_room("sentencepiece", len(names), vocab_size)
    specials = len(ALBERT_SPECIALS)
    pieces = [(n, 0.0 if i < specials else -math.log(2.0 + i - specials)) for i, n in enumerate(names)]
    floor = min(s for _, s in pieces) - 10.0
    pieces += [(f"<unused{i}>", floor) for i in range(vocab_size - len(pieces))]
    ids = {p: i for i, (p, _) in enumerate(pieces)}
    steps = [normalizers.Replace("``", '"'), normalizers.Replace("''", '"'), normalizers.NFKD()]
    steps.append(normalizers.StripAccents())
    if lowercase:
        steps.append(normalizers.Lowercase())
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok = Tokenizer(models.Unigram(pieces, unk_id=ids["<unk>"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")]
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.add_special_tokens([AddedToken(t, special=True) for t in ALBERT_SPECIALS])
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0",
        pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])],
    )
    return cls(
        tokenizer_object=tok,
        do_lower_case=lowercase,
        remove_space=True,
        keep_accents=False,
        bos_token="[CLS]",
        eos_token="[SEP]",
        unk_token="<unk>",
        sep_token="[SEP]",
        pad_token="<pad>",
        cls_token="[CLS]",
        mask_token=AddedToken("[MASK]", lstrip=True, rstrip=False, normalized=False),
        model_max_length=512,
    )
