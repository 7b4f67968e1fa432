"""Reference answer decoding: question + context -> windows -> logits -> best answer.

This is the algorithm of transformers' ``QuestionAnsweringPipeline`` (fast-tokenizer path, v4.57),
written against plain arrays so that every runtime (and the Node.js client) can share it:

- windows: ``[CLS] question [SEP] context [SEP]`` of at most ``max_length`` tokens, only the
  context truncated, consecutive windows overlapping by ``stride`` tokens;
- per window, start and end logits outside the context (question, special tokens, padding) are
  masked to -10000 except [CLS]; softmax over the window; [CLS] is then zeroed;
- span score = p_start * p_end for spans of at most ``max_answer_len`` tokens, top ``2k+10``
  candidates per window, each widened to whole words through the tokenizer's word ids, and the
  answer text cut from the original context with the tokenizer's character offsets;
- equal answer texts (case-insensitive) have their scores summed, across candidates and windows;
  the answer is the highest-scoring text (``top_k``: the best ``top_k`` texts);
- ``handle_impossible_answer`` (SQuAD 2.0): the null answer ``""`` competes with the spans, scored
  as the pipeline scores it: the minimum over windows of p_start[0] * p_end[0] (before [CLS] is zeroed).

Every tokenizer family windows the same way: the question is sequence 0, the context sequence 1
(``sequence_ids``), the special tokens around them come from the tokenizer's post-processor
(``[CLS] q [SEP] c [SEP]`` for WordPiece and SentencePiece, ``<s> q </s></s> c </s>`` for byte-level
BPE), and the classification token the pipeline keeps in the softmax is every token equal to the
window's first token when that is a special one (``Encoded.cls_id``, the tokenizer's cls token for
each of these families). ``token_type_ids`` are the post-processor's type ids (0 for the question,
1 for the context for BERT-like tokenizers, all 0 for RoBERTa), padded with 0.

The heavy part (the model) is an ``Infer`` callable, so the decoding needs no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from tokenizers import Encoding, Tokenizer

MAX_LENGTH = 384
STRIDE = 128
MAX_ANSWER_LEN = 15
MAX_BATCH_WINDOWS = 16  # windows per model call, at most (the npm client and the Node runner use the same)
SOLO_WIDTH = 256  # windows this long run one per call (call_plan says why; qa.mjs SOLO_WIDTH is the same)
TOP_K = 1

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float32]
Infer = Callable[..., tuple[FloatArray, FloatArray]]
"""``infer(input_ids, attention_mask)``, or ``infer(input_ids, attention_mask, token_type_ids)`` when
``answer(..., token_types=True)``: int32 arrays (batch, seq) -> (start_logits, end_logits) float32 (batch, seq)."""


class DecodeError(ValueError):
    """A question/context pair that cannot be windowed (the error says why and what to change)."""


@dataclass(frozen=True)
class Window:
    """One tokenised window, as plain lists so it serialises (and ports to JS) trivially."""

    input_ids: list[int]
    sequence_ids: list[int | None]
    word_ids: list[int | None]
    offsets: list[tuple[int, int]]
    type_ids: list[int] = field(default_factory=list)

    @classmethod
    def from_encoding(cls, enc: Encoding) -> Window:
        return cls(list(enc.ids), list(enc.sequence_ids), list(enc.word_ids), list(enc.offsets), list(enc.type_ids))


@dataclass(frozen=True)
class Encoded:
    windows: list[Window]
    input_ids: IntArray
    attention_mask: IntArray
    token_type_ids: IntArray
    cls_id: int | None = None  # the token kept in the softmax ("no answer"); see cls_id_of


def cls_id_of(window: Window) -> int | None:
    """The classification token of a window: its first token when that is a special token (sequence
    id None), as [CLS] (WordPiece, SentencePiece) and <s> (byte-level BPE) are; else None."""
    if window.input_ids and window.sequence_ids[0] is None:
        return window.input_ids[0]
    return None


@dataclass(frozen=True)
class Answer:
    text: str
    score: float
    start: int
    end: int

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "score": self.score, "start": self.start, "end": self.end}


def prepare_tokenizer(tokenizer: Tokenizer, max_length: int = MAX_LENGTH, stride: int = STRIDE) -> Tokenizer:
    """Configure truncation like the pipeline does: only the context is cut, with overlap."""
    if stride >= max_length:
        msg = f"stride ({stride}) must be smaller than max_length ({max_length})"
        raise DecodeError(msg)
    tokenizer.enable_truncation(max_length, stride=stride, strategy="only_second")
    tokenizer.no_padding()
    return tokenizer


def encode(
    tokenizer: Tokenizer,
    question: str,
    context: str,
    *,
    max_length: int = MAX_LENGTH,
    stride: int = STRIDE,
    pad_id: int = 0,
) -> Encoded:
    """Tokenise into windows and pad them into one int32 batch (ids with ``pad_id``, type ids with 0)."""
    prepare_tokenizer(tokenizer, max_length, stride)
    try:
        enc = tokenizer.encode(question, context)
    except BaseException as exc:  # tokenizers raises Exception, or a pyo3 PanicException (a BaseException)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        msg = (
            f"cannot window this question/context pair ({exc}); the question must leave room for "
            f"context in a {max_length}-token window: shorten the question or raise max_length"
        )
        raise DecodeError(msg) from exc
    windows = [Window.from_encoding(e) for e in [enc, *enc.overflowing]]
    width = max(len(w.input_ids) for w in windows)
    ids = np.full((len(windows), width), pad_id, dtype=np.int32)
    mask = np.zeros((len(windows), width), dtype=np.int32)
    types = np.zeros((len(windows), width), dtype=np.int32)
    for i, w in enumerate(windows):
        ids[i, : len(w.input_ids)] = w.input_ids
        mask[i, : len(w.input_ids)] = 1
        types[i, : len(w.type_ids)] = w.type_ids
    return Encoded(windows, ids, mask, types, cls_id_of(windows[0]))


def _softmax_masked(logits: npt.NDArray[np.float64], allowed: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    x = np.where(allowed, logits, -10000.0)
    e = np.exp(x - x.max())
    return e / e.sum()


def candidate_mask(window: Window, cls_id: int | None) -> npt.NDArray[np.bool_]:
    """The pipeline's ``p_mask == 0``: context tokens, and every token equal to the cls token."""
    allowed = np.array([s == 1 for s in window.sequence_ids], dtype=bool)
    if cls_id is None:
        allowed[0] = True  # a window without a special first token: position 0, as before
    else:
        allowed |= np.array(window.input_ids) == cls_id
    return allowed


def _probabilities(
    window: Window, start_logits: npt.ArrayLike, end_logits: npt.ArrayLike, cls_id: int | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Softmax of the window's start and end logits over the allowed tokens (before [CLS] is zeroed)."""
    n = len(window.input_ids)
    allowed = candidate_mask(window, cls_id)
    p_start = _softmax_masked(np.asarray(start_logits, dtype=np.float64)[:n], allowed)
    p_end = _softmax_masked(np.asarray(end_logits, dtype=np.float64)[:n], allowed)
    return p_start, p_end, allowed


def window_candidates(
    window: Window,
    start_logits: npt.ArrayLike,
    end_logits: npt.ArrayLike,
    *,
    max_answer_len: int = MAX_ANSWER_LEN,
    top_k: int = TOP_K,
    align_to_words: bool = True,
    cls_id: int | None = None,
) -> list[tuple[int, int, float]]:
    """Best token spans of one window as (start_token, end_token, score), best first.

    ``cls_id`` None: the first token of the window, if it is a special token (cls_id_of)."""
    if cls_id is None:
        cls_id = cls_id_of(window)
    p_start, p_end, allowed = _probabilities(window, start_logits, end_logits, cls_id)
    p_start[0] = p_end[0] = 0.0  # the pipeline zeroes position 0 only
    outer = np.outer(p_start, p_end)
    candidates = np.tril(np.triu(outer), max_answer_len - 1)
    flat = candidates.ravel()
    # the pipeline over-fetches when it aligns to words, because word alignment may merge candidates
    k = top_k * 2 + 10 if align_to_words else top_k
    if k == 1:
        order = np.array([np.argmax(flat)])
    elif len(flat) <= k:
        order = np.argsort(-flat)
    else:
        idx = np.argpartition(-flat, k)[:k]
        order = idx[np.argsort(-flat[idx])]
    starts, ends = np.unravel_index(order, candidates.shape)
    allowed_idx = np.flatnonzero(allowed)
    keep = np.isin(starts, allowed_idx) & np.isin(ends, allowed_idx)
    return [(int(s), int(e), float(candidates[s, e])) for s, e in zip(starts[keep], ends[keep], strict=True)]


def null_score(encoded: Encoded, start_logits: npt.ArrayLike, end_logits: npt.ArrayLike) -> float:
    """The null answer's score as the pipeline computes it (``handle_impossible_answer``): the minimum
    over windows of p_start[0] * p_end[0], with the probabilities of the span softmax."""
    starts, ends = np.asarray(start_logits), np.asarray(end_logits)
    best = 1000000.0  # the pipeline's initial min_null_score
    for window, s_logits, e_logits in zip(encoded.windows, starts, ends, strict=True):
        p_start, p_end, _ = _probabilities(window, s_logits, e_logits, encoded.cls_id)
        best = min(best, float(p_start[0] * p_end[0]))
    return best


def _word_to_chars(window: Window, word: int) -> tuple[int, int] | None:
    """tokenizers' ``Encoding.word_to_chars(word, sequence_index=1)``: from the first to the last token
    of ``word`` in the context (scanning stops at a larger word id), None when the context lacks it."""
    first = last = None
    for i, (w, s) in enumerate(zip(window.word_ids, window.sequence_ids, strict=True)):
        if s != 1:
            continue
        if w is not None and w > word:
            break
        if w == word:
            first = i if first is None else first
            last = i
    if first is None or last is None:
        return None
    return window.offsets[first][0], window.offsets[last][1]


def span_chars(window: Window, start: int, end: int, *, align_to_words: bool = True) -> tuple[int, int]:
    """Character span of tokens ``start..end`` (the pipeline's ``get_indices``): widened to whole words,
    or, when either end has no word in the context (a special token), the tokens' own offsets."""
    if align_to_words:
        start_word, end_word = window.word_ids[start], window.word_ids[end]
        if start_word is not None and end_word is not None:
            a, b = _word_to_chars(window, start_word), _word_to_chars(window, end_word)
            if a is not None and b is not None:
                return a[0], b[1]
    return window.offsets[start][0], window.offsets[end][1]


@dataclass
class _Merged:
    text: str
    score: float
    start: int
    end: int


def decode_candidates(
    encoded: Encoded,
    start_logits: npt.ArrayLike,
    end_logits: npt.ArrayLike,
    context: str,
    *,
    max_answer_len: int = MAX_ANSWER_LEN,
    align_to_words: bool = True,
    top_k: int = TOP_K,
) -> list[Answer]:
    """Every candidate answer over all windows, equal texts merged, in the order first seen."""
    starts = np.asarray(start_logits)
    ends = np.asarray(end_logits)
    if starts.shape[0] != len(encoded.windows) or ends.shape != starts.shape:
        msg = (
            f"logits of shape {starts.shape} / {ends.shape} do not match {len(encoded.windows)} windows "
            f"of width {encoded.input_ids.shape[1]}"
        )
        raise DecodeError(msg)
    merged: list[_Merged] = []
    for window, s_logits, e_logits in zip(encoded.windows, starts, ends, strict=True):
        spans = window_candidates(
            window,
            s_logits,
            e_logits,
            max_answer_len=max_answer_len,
            top_k=top_k,
            align_to_words=align_to_words,
            cls_id=encoded.cls_id,
        )
        for s, e, score in spans:
            char_start, char_end = span_chars(window, s, e, align_to_words=align_to_words)
            text = context[char_start:char_end]
            same = next((m for m in merged if m.text.lower() == text.lower()), None)
            if same is not None:
                same.score += score
            else:
                merged.append(_Merged(text, score, char_start, char_end))
    return [Answer(m.text, m.score, m.start, m.end) for m in merged]


def decode_answers(
    encoded: Encoded,
    start_logits: npt.ArrayLike,
    end_logits: npt.ArrayLike,
    context: str,
    *,
    top_k: int = TOP_K,
    handle_impossible_answer: bool = False,
    max_answer_len: int = MAX_ANSWER_LEN,
    align_to_words: bool = True,
) -> list[Answer]:
    """The best ``top_k`` answers, best first (fewer when the context offers fewer), as the pipeline
    ranks them: a stable sort of the merged candidates and, with ``handle_impossible_answer``, the null
    answer ``Answer("", null_score, 0, 0)`` last among equals."""
    if top_k < 1:
        msg = f"top_k must be >= 1, got {top_k}"
        raise DecodeError(msg)
    answers = decode_candidates(
        encoded,
        start_logits,
        end_logits,
        context,
        max_answer_len=max_answer_len,
        align_to_words=align_to_words,
        top_k=top_k,
    )
    if handle_impossible_answer:
        answers.append(Answer("", null_score(encoded, start_logits, end_logits), 0, 0))
    return sorted(answers, key=lambda a: a.score, reverse=True)[:top_k]


def is_no_answer(ans: Answer) -> bool:
    """The null answer of ``handle_impossible_answer`` (SQuAD 2.0's empty prediction)."""
    return ans.text == ""


def decode(
    encoded: Encoded,
    start_logits: npt.ArrayLike,
    end_logits: npt.ArrayLike,
    context: str,
    *,
    max_answer_len: int = MAX_ANSWER_LEN,
    align_to_words: bool = True,
    handle_impossible_answer: bool = False,
) -> Answer:
    """Best answer over all windows from the logits of every window (the null answer ``""`` when
    ``handle_impossible_answer`` and it outscores every span)."""
    best = decode_answers(
        encoded,
        start_logits,
        end_logits,
        context,
        handle_impossible_answer=handle_impossible_answer,
        max_answer_len=max_answer_len,
        align_to_words=align_to_words,
    )
    return best[0] if best else Answer("", 0.0, 0, 0)  # first of equals, like the pipeline's stable sort


def call_plan(
    lengths: list[int], max_batch_windows: int = MAX_BATCH_WINDOWS, solo_width: float = SOLO_WIDTH
) -> list[tuple[int, int, int]]:
    """How the windows reach the model: (first row, rows, width) per call.

    Windows of at least ``solo_width`` tokens run one per call, each at its own length: on a runtime
    whose call costs little beyond its FLOPs (onnxruntime, a TF function or SavedModel), such a call is
    already compute-bound, so batching them only adds padding (a long text's last window is shorter)
    and a larger working set. Measured by ``nox -s bench`` at full size (onnxruntime, 6 windows of a
    4,500-character text): one call per window 1,422 ms, one batched call 1,670 ms. Shorter windows
    (a short ``max_length``), or all windows on a runtime with a large fixed cost per call (TF.js
    graph models: qa.mjs soloWidthFor), are batched, ``max_batch_windows`` per call, padded to the
    longest of the call.
    """
    if not lengths:
        return []
    if max(lengths) >= solo_width:
        return [(i, 1, n) for i, n in enumerate(lengths)]
    step = max(1, max_batch_windows)
    return [(i, len(lengths[i : i + step]), max(lengths[i : i + step])) for i in range(0, len(lengths), step)]


def infer_windows(
    infer: Infer,
    encoded: Encoded,
    *,
    max_batch_windows: int = MAX_BATCH_WINDOWS,
    solo_width: float = SOLO_WIDTH,
    token_types: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """Logits of every window of ``encoded``, in the calls ``call_plan`` chooses; ``token_types``: the
    model takes ``token_type_ids`` too (sliced like the ids and the mask)."""
    ids, mask, types = encoded.input_ids, encoded.attention_mask, encoded.token_type_ids

    def call(rows: slice, width: int) -> tuple[FloatArray, FloatArray]:
        if token_types:
            return infer(ids[rows, :width], mask[rows, :width], types[rows, :width])
        return infer(ids[rows, :width], mask[rows, :width])

    plan = call_plan([len(w.input_ids) for w in encoded.windows], max_batch_windows, solo_width)
    if len(plan) == 1 and plan[0][2] == ids.shape[1]:
        return call(slice(None), ids.shape[1])
    start_logits = np.zeros(ids.shape, np.float32)
    end_logits = np.zeros(ids.shape, np.float32)
    for row, rows, width in plan:
        s, e = call(slice(row, row + rows), width)
        start_logits[row : row + rows, :width] = np.asarray(s)[:, :width]
        end_logits[row : row + rows, :width] = np.asarray(e)[:, :width]
    return start_logits, end_logits


def answers(
    infer: Infer,
    tokenizer: Tokenizer,
    question: str,
    context: str,
    *,
    top_k: int = TOP_K,
    handle_impossible_answer: bool = False,
    max_length: int = MAX_LENGTH,
    stride: int = STRIDE,
    max_answer_len: int = MAX_ANSWER_LEN,
    max_batch_windows: int = MAX_BATCH_WINDOWS,
    solo_width: float = SOLO_WIDTH,
    token_types: bool = False,
    align_to_words: bool = True,
) -> list[Answer]:
    """End to end, the best ``top_k`` answers (best first; see decode_answers), as
    ``pipeline(question=, context=, top_k=, handle_impossible_answer=)`` ranks them. The pipeline
    returns one dict when one answer remains; this always returns a list."""
    encoded = encode(tokenizer, question, context, max_length=max_length, stride=stride)
    start_logits, end_logits = infer_windows(
        infer, encoded, max_batch_windows=max_batch_windows, solo_width=solo_width, token_types=token_types
    )
    return decode_answers(
        encoded,
        start_logits,
        end_logits,
        context,
        top_k=top_k,
        handle_impossible_answer=handle_impossible_answer,
        max_answer_len=max_answer_len,
        align_to_words=align_to_words,
    )


def answer(
    infer: Infer,
    tokenizer: Tokenizer,
    question: str,
    context: str,
    *,
    max_length: int = MAX_LENGTH,
    stride: int = STRIDE,
    max_answer_len: int = MAX_ANSWER_LEN,
    max_batch_windows: int = MAX_BATCH_WINDOWS,
    solo_width: float = SOLO_WIDTH,
    token_types: bool = False,
    handle_impossible_answer: bool = False,
) -> Answer:
    """End to end: tokenise, run the windows in the calls ``call_plan`` chooses, decode.

    ``solo_width`` is call_plan's (``math.inf`` replays qa.mjs's plan for TF.js graph models, which
    batch every window: on a float32 runtime the logits of a window depend, in the last bits, on the
    shape of the call it ran in). ``token_types``: call ``infer(ids, mask, token_type_ids)``, for
    models that take token type ids (BERT, MobileBERT, ALBERT); else ``infer(ids, mask)``.

    At most ``max_batch_windows`` windows per call keeps memory bounded on very long contexts:
    100,000 characters is about 120 windows, which in one call peaked at 831 MB on the small default
    model. The answer does not depend on the plan: padding is masked, and the logits of every
    window are cut to its own tokens before decoding.
    """
    best = answers(
        infer,
        tokenizer,
        question,
        context,
        top_k=1,
        handle_impossible_answer=handle_impossible_answer,
        max_length=max_length,
        stride=stride,
        max_answer_len=max_answer_len,
        max_batch_windows=max_batch_windows,
        solo_width=solo_width,
        token_types=token_types,
    )
    return best[0] if best else Answer("", 0.0, 0, 0)  # as decode(): no span at all is the empty answer
