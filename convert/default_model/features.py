"""Tokenizer training and model inputs for the default model (no TensorFlow here).

The vocabulary is a cased WordPiece trained on the training corpus only, with an initial alphabet
(both word-initial and ``##`` forms) so that unseen text, like the Super Bowl paragraph, tokenises
into known pieces instead of [UNK]. Examples are grouped into length buckets of a fixed token budget
so short paragraphs cost little and long ones still train positions up to 384.
"""

from __future__ import annotations

import random
import string
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tokenizers import BertWordPieceTokenizer, Tokenizer

from convert.default_model.corpus import Paragraph

MAX_LENGTH = 384
MODEL_MAX_LENGTH = 512
BUCKET = 32
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ALPHABET = sorted(
    set(string.ascii_letters + string.digits + string.punctuation)
    | {chr(c) for c in range(0xA1, 0x100)}
    | set("–—‘’“”…•€")
)


def train_vocab(texts: Iterable[str], vocab_size: int) -> list[str]:
    """A cased WordPiece vocabulary (deterministic: the trainer breaks ties by pair order)."""
    tok = BertWordPieceTokenizer(lowercase=False, strip_accents=False, clean_text=True, handle_chinese_chars=True)
    letters = [c for c in ALPHABET if c.isalnum()]
    alphabet_text = [" ".join(f"a{c}" for c in letters)]  # puts every "##c" into the vocabulary too
    tok.train_from_iterator(
        [*texts, *alphabet_text],
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL,
        initial_alphabet=ALPHABET,
        limit_alphabet=len(ALPHABET),
        wordpieces_prefix="##",
        show_progress=False,
    )
    vocab = tok.get_vocab()
    return sorted(vocab, key=vocab.__getitem__)


def hf_tokenizer(vocab: Sequence[str]) -> Any:
    """The ``DistilBertTokenizerFast`` saved with the model (cased, 512 positions)."""
    from transformers import DistilBertTokenizerFast

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vocab.txt"
        path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
        return DistilBertTokenizerFast(
            vocab_file=str(path), do_lower_case=False, strip_accents=False, model_max_length=MODEL_MAX_LENGTH
        )


@dataclass(frozen=True)
class Encoded:
    """Token ids and answer token positions of every example that fits in one window."""

    ids: list[list[int]]
    starts: npt.NDArray[np.int32]
    ends: npt.NDArray[np.int32]
    dropped: int
    continuation: npt.NDArray[np.bool_]
    """Per vocabulary id: is it a ``##`` piece (a word continues)?"""
    sep_id: int


def encode(tokenizer: Tokenizer, paragraphs: Sequence[Paragraph], max_length: int = MAX_LENGTH) -> Encoded:
    """[CLS] question [SEP] context [SEP] with answer token spans; longer examples are dropped."""
    tokenizer.no_truncation()
    tokenizer.no_padding()
    pairs = [(qa.question, p.context) for p in paragraphs for qa in p.qas]
    spans = [(qa.start, qa.start + len(qa.answer)) for p in paragraphs for qa in p.qas]
    ids: list[list[int]] = []
    starts: list[int] = []
    ends: list[int] = []
    dropped = 0
    for enc, (a, b) in zip(tokenizer.encode_batch(pairs), spans, strict=True):
        if len(enc.ids) > max_length:
            dropped += 1
            continue
        start, end = enc.char_to_token(a, 1), enc.char_to_token(b - 1, 1)
        if start is None or end is None:
            msg = f"answer at characters {a}-{b} has no token (whitespace at an answer edge?)"
            raise ValueError(msg)
        ids.append(enc.ids)
        starts.append(start)
        ends.append(end)
    vocab = tokenizer.get_vocab()
    continuation = np.zeros(len(vocab), bool)
    continuation[[i for t, i in vocab.items() if t.startswith("##")]] = True
    sep_id = tokenizer.token_to_id("[SEP]")
    return Encoded(ids, np.array(starts, np.int32), np.array(ends, np.int32), dropped, continuation, sep_id)


@dataclass(frozen=True)
class Batch:
    input_ids: npt.NDArray[np.int32]
    attention_mask: npt.NDArray[np.int32]
    start_words: npt.NDArray[np.float32]
    """1 on every piece of the answer's first word (decoding widens spans to whole words anyway)."""
    end_words: npt.NDArray[np.float32]
    aux: npt.NDArray[np.float32]
    """Dense per-token targets: (in the question, in the answer, ends a word), for context tokens."""
    context: npt.NDArray[np.float32]


def _targets(
    ids: npt.NDArray[np.int32], starts: npt.NDArray[np.int32], ends: npt.NDArray[np.int32], data: Encoded
) -> tuple[npt.NDArray[np.float32], ...]:
    """Word-level span targets and dense auxiliary targets for one padded batch."""
    cont = data.continuation[ids]
    pos = np.arange(ids.shape[1])[None, :]
    sep = np.argmax(ids == data.sep_id, axis=1)[:, None]
    question = (pos > 0) & (pos < sep)
    context = (pos > sep) & (ids != data.sep_id) & (ids != 0)
    in_question = ((ids[:, :, None] == ids[:, None, :]) & question[:, None, :]).any(axis=2) & context
    in_answer = (pos >= starts[:, None]) & (pos <= ends[:, None])
    next_cont = np.concatenate([cont[:, 1:], np.zeros_like(cont[:, :1])], axis=1)
    word_end = ~next_cont & context
    start_words = np.zeros(ids.shape, np.float32)
    end_words = np.zeros(ids.shape, np.float32)
    for r, (s, e) in enumerate(zip(starts, ends, strict=True)):
        s_last = s
        while s_last + 1 < ids.shape[1] and cont[r, s_last + 1]:
            s_last += 1
        e_first = e
        while e_first > s and cont[r, e_first]:
            e_first -= 1
        start_words[r, s : s_last + 1] = 1.0
        end_words[r, e_first : e + 1] = 1.0
    aux = np.stack([in_question, in_answer, word_end], axis=-1).astype(np.float32)
    return start_words, end_words, aux, context.astype(np.float32)


def batches(data: Encoded, tokens_per_batch: int, seed: int, curriculum: float = 0.0) -> list[Batch]:
    """Length-bucketed, padded batches in a seeded random order (no global RNG involved).

    With ``curriculum`` > 0 short batches tend to come first: matching question and context is
    learnt faster where there are few candidates, and long contexts then mostly train positions.
    """
    rng = random.Random(seed)
    by_width: dict[int, list[int]] = {}
    for i, row in enumerate(data.ids):
        width = -(-len(row) // BUCKET) * BUCKET
        by_width.setdefault(width, []).append(i)
    out: list[Batch] = []
    for width in sorted(by_width):
        members = by_width[width]
        rng.shuffle(members)
        size = max(1, tokens_per_batch // width)
        for k in range(0, len(members), size):
            chunk = members[k : k + size]
            ids = np.zeros((len(chunk), width), np.int32)
            mask = np.zeros((len(chunk), width), np.int32)
            for r, i in enumerate(chunk):
                ids[r, : len(data.ids[i])] = data.ids[i]
                mask[r, : len(data.ids[i])] = 1
            out.append(Batch(ids, mask, *_targets(ids, data.starts[chunk], data.ends[chunk], data)))
    keys = [(1 - curriculum) * rng.random() + curriculum * (0.6 * rng.random() + 0.4 * b.input_ids.shape[1] / MAX_LENGTH) for b in out]
    return [b for _, b in sorted(zip(keys, out, strict=True), key=lambda kb: kb[0])]
