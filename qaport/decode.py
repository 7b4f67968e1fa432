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
  the answer is the highest-scoring text.

The heavy part (the model) is an ``Infer`` callable, so the decoding needs no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
Infer = Callable[[IntArray, IntArray], tuple[FloatArray, FloatArray]]
"""(input_ids, attention_mask), both int32 (batch, seq) -> (start_logits, end_logits) float32."""


class DecodeError(ValueError):
    """A question/context pair that cannot be windowed (the error says why and what to change)."""


@dataclass(frozen=True)
class Window:
    """One tokenised window, as plain lists so it serialises (and ports to JS) trivially."""

    input_ids: list[int]
    sequence_ids: list[int | None]
    word_ids: list[int | None]
    offsets: list[tuple[int, int]]

    @classmethod
    def from_encoding(cls, enc: Encoding) -> Window:
        return cls(list(enc.ids), list(enc.sequence_ids), list(enc.word_ids), list(enc.offsets))


@dataclass(frozen=True)
class Encoded:
    windows: list[Window]
    input_ids: IntArray
    attention_mask: IntArray


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
    """Tokenise into windows and pad them into one int32 batch."""
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
    for i, w in enumerate(windows):
        ids[i, : len(w.input_ids)] = w.input_ids
        mask[i, : len(w.input_ids)] = 1
    return Encoded(windows, ids, mask)


def _softmax_masked(logits: npt.NDArray[np.float64], allowed: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    x = np.where(allowed, logits, -10000.0)
    e = np.exp(x - x.max())
    return e / e.sum()


def window_candidates(
    window: Window,
    start_logits: npt.ArrayLike,
    end_logits: npt.ArrayLike,
    *,
    max_answer_len: int = MAX_ANSWER_LEN,
    top_k: int = TOP_K,
) -> list[tuple[int, int, float]]:
    """Best token spans of one window as (start_token, end_token, score), best first."""
    n = len(window.input_ids)
    start = np.asarray(start_logits, dtype=np.float64)[:n]
    end = np.asarray(end_logits, dtype=np.float64)[:n]
    context = np.array([s == 1 for s in window.sequence_ids], dtype=bool)
    allowed = context.copy()
    allowed[0] = True  # the pipeline keeps [CLS] in the softmax (it means "no answer" for some models)
    p_start = _softmax_masked(start, allowed)
    p_end = _softmax_masked(end, allowed)
    p_start[0] = p_end[0] = 0.0
    outer = np.outer(p_start, p_end)
    candidates = np.tril(np.triu(outer), max_answer_len - 1)
    flat = candidates.ravel()
    k = top_k * 2 + 10  # the pipeline over-fetches because word alignment may merge candidates
    if len(flat) <= k:
        order = np.argsort(-flat)
    else:
        idx = np.argpartition(-flat, k)[:k]
        order = idx[np.argsort(-flat[idx])]
    starts, ends = np.unravel_index(order, candidates.shape)
    allowed_idx = np.flatnonzero(allowed)
    keep = np.isin(starts, allowed_idx) & np.isin(ends, allowed_idx)
    return [(int(s), int(e), float(candidates[s, e])) for s, e in zip(starts[keep], ends[keep], strict=True)]


def _word_chars(window: Window, token: int, side: int) -> int:
    """Character offset of the word holding ``token`` (side 0: its start, 1: its end)."""
    word = window.word_ids[token]
    if word is None:
        return window.offsets[token][side]
    chars = [
        window.offsets[i][side]
        for i, (w, s) in enumerate(zip(window.word_ids, window.sequence_ids, strict=True))
        if w == word and s == 1
    ]
    return min(chars) if side == 0 else max(chars)


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
        for s, e, score in window_candidates(window, s_logits, e_logits, max_answer_len=max_answer_len):
            if align_to_words:
                char_start, char_end = _word_chars(window, s, 0), _word_chars(window, e, 1)
            else:
                char_start, char_end = window.offsets[s][0], window.offsets[e][1]
            text = context[char_start:char_end]
            same = next((m for m in merged if m.text.lower() == text.lower()), None)
            if same is not None:
                same.score += score
            else:
                merged.append(_Merged(text, score, char_start, char_end))
    return [Answer(m.text, m.score, m.start, m.end) for m in merged]


def decode(
    encoded: Encoded,
    start_logits: npt.ArrayLike,
    end_logits: npt.ArrayLike,
    context: str,
    *,
    max_answer_len: int = MAX_ANSWER_LEN,
    align_to_words: bool = True,
) -> Answer:
    """Best answer over all windows from the logits of every window."""
    candidates = decode_candidates(
        encoded, start_logits, end_logits, context, max_answer_len=max_answer_len, align_to_words=align_to_words
    )
    if not candidates:
        return Answer("", 0.0, 0, 0)
    return max(candidates, key=lambda a: a.score)  # first of equals, like the pipeline's stable sort


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
) -> Answer:
    """End to end: tokenise, run the windows in the calls ``call_plan`` chooses, decode.

    ``solo_width`` is call_plan's (``math.inf`` replays qa.mjs's plan for TF.js graph models, which
    batch every window: on a float32 runtime the logits of a window depend, in the last bits, on the
    shape of the call it ran in).

    At most ``max_batch_windows`` windows per call keeps memory bounded on very long contexts:
    100,000 characters is about 120 windows, which in one call peaked at 831 MB on the small default
    model. The answer does not depend on the plan: padding is masked, and the logits of every
    window are cut to its own tokens before decoding.
    """
    encoded = encode(tokenizer, question, context, max_length=max_length, stride=stride)
    ids, mask = encoded.input_ids, encoded.attention_mask
    plan = call_plan([len(w.input_ids) for w in encoded.windows], max_batch_windows, solo_width)
    if len(plan) == 1 and plan[0][2] == ids.shape[1]:
        start_logits, end_logits = infer(ids, mask)
    else:
        start_logits = np.zeros(ids.shape, np.float32)
        end_logits = np.zeros(ids.shape, np.float32)
        for row, rows, width in plan:
            s, e = infer(ids[row : row + rows, :width], mask[row : row + rows, :width])
            start_logits[row : row + rows, :width] = np.asarray(s)[:, :width]
            end_logits[row : row + rows, :width] = np.asarray(e)[:, :width]
    return decode(encoded, start_logits, end_logits, context, max_answer_len=max_answer_len)
