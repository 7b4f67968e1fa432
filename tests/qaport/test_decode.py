"""Reference decoding on synthetic logits: windows, masks, span rules, word alignment, merging."""

from __future__ import annotations

import numpy as np
import pytest

from qaport import decode


def logits_for(enc: decode.Encoded, spans: dict[tuple[int, int, int], float]) -> tuple[np.ndarray, np.ndarray]:
    start = np.full(enc.input_ids.shape, -5.0, dtype=np.float32)
    end = np.full(enc.input_ids.shape, -5.0, dtype=np.float32)
    for (w, s, e), v in spans.items():
        start[w, s] = v
        end[w, e] = v
    return start, end


def context_tokens(enc: decode.Encoded, w: int = 0) -> list[int]:
    return [i for i, s in enumerate(enc.windows[w].sequence_ids) if s == 1]


def test_single_window_layout(word_tokenizer) -> None:
    enc = decode.encode(word_tokenizer, "Who won the cup?", "The Tigers defeated the Lions.")
    assert len(enc.windows) == 1
    w = enc.windows[0]
    assert w.sequence_ids[0] is None and w.sequence_ids[-1] is None  # [CLS] ... [SEP]
    assert enc.input_ids.dtype == np.int32 and enc.attention_mask.all()


def test_best_span_text_and_offsets(word_tokenizer) -> None:
    context = "The Tigers defeated the Lions."
    enc = decode.encode(word_tokenizer, "Who won?", context)
    ctx = context_tokens(enc)
    start, end = logits_for(enc, {(0, ctx[1], ctx[1]): 8.0})
    ans = decode.decode(enc, start, end, context)
    assert ans.text == "Tigers"
    assert context[ans.start : ans.end] == "Tigers"
    assert 0 < ans.score <= 1


def test_question_tokens_never_answer(word_tokenizer) -> None:
    context = "The Tigers defeated the Lions."
    enc = decode.encode(word_tokenizer, "Who won the cup?", context)
    q_token = 2  # inside the question
    start, end = logits_for(enc, {(0, q_token, q_token): 50.0})
    ctx = context_tokens(enc)
    start[0, ctx[3]] = end[0, ctx[3]] = 1.0
    ans = decode.decode(enc, start, end, context)
    assert ans.text in context and ans.start >= 0


def test_max_answer_len_is_respected(word_tokenizer) -> None:
    context = " ".join(["Tigers"] * 40)
    enc = decode.encode(word_tokenizer, "Who?", context)
    ctx = context_tokens(enc)
    start, end = logits_for(enc, {})
    start[0, ctx[0]] = 10.0
    end[0, ctx[30]] = 10.0  # too far from the start
    end[0, ctx[5]] = 5.0
    ans = decode.decode(enc, start, end, context, max_answer_len=15)
    assert len(ans.text.split()) <= 15
    assert ans.start == 0 and ans.text == " ".join(["Tigers"] * 6)


def test_long_context_is_windowed_with_stride(word_tokenizer) -> None:
    context = " ".join(f"Tigers{i % 7} defeated Lions in {1900 + i}." for i in range(300)) + " Then Lindqvist won."
    enc = decode.encode(word_tokenizer, "When?", context, max_length=128, stride=32)
    assert len(enc.windows) > 3
    assert max(len(w.input_ids) for w in enc.windows) <= 128
    first_ctx = [o for o, s in zip(enc.windows[0].offsets, enc.windows[0].sequence_ids, strict=True) if s == 1]
    second_ctx = [o for o, s in zip(enc.windows[1].offsets, enc.windows[1].sequence_ids, strict=True) if s == 1]
    assert second_ctx[0][0] < first_ctx[-1][0]  # windows overlap
    # the best answer may come from any window; offsets index the original string
    last = len(enc.windows) - 1
    target = [i for i in context_tokens(enc, last) if enc.windows[last].offsets[i][0] == context.index("Lindqvist")]
    start, end = logits_for(enc, {(last, target[0], target[0]): 12.0})
    ans = decode.decode(enc, start, end, context)
    assert ans.text == "Lindqvist" and ans.start == context.index("Lindqvist")


def test_subword_spans_widen_to_whole_words(word_tokenizer) -> None:
    context = "Parisian defeated the Lions."
    enc = decode.encode(word_tokenizer, "Who?", context)
    ctx = context_tokens(enc)
    pieces = [i for i in ctx if enc.windows[0].word_ids[i] == enc.windows[0].word_ids[ctx[0]]]
    assert len(pieces) > 1  # the unknown word is split
    start, end = logits_for(enc, {(0, pieces[1], pieces[1]): 9.0})  # middle of the word
    ans = decode.decode(enc, start, end, context)
    assert ans.text == "Parisian" and ans.start == 0


def test_equal_texts_merge_scores(word_tokenizer) -> None:
    context = "Tigers won. Later the Tigers won again."
    enc = decode.encode(word_tokenizer, "Who?", context)
    ctx = context_tokens(enc)
    tigers = [i for i in ctx if context[enc.windows[0].offsets[i][0] : enc.windows[0].offsets[i][1]] == "Tigers"]
    start, end = logits_for(enc, {(0, tigers[0], tigers[0]): 5.0, (0, tigers[1], tigers[1]): 5.5})
    cands = decode.decode_candidates(enc, start, end, context)
    assert sum(1 for c in cands if c.text == "Tigers") == 1
    best = decode.decode(enc, start, end, context)
    spans = decode.window_candidates(enc.windows[0], start[0], end[0])
    single = {(s, e): p for s, e, p in spans}
    assert best.start == 22  # the better-scored occurrence was seen first and keeps its offsets
    assert best.score == pytest.approx(single[(tigers[0], tigers[0])] + single[(tigers[1], tigers[1])])


def test_question_too_long_is_a_clear_error(word_tokenizer) -> None:
    with pytest.raises(decode.DecodeError, match="shorten the question"):
        decode.encode(word_tokenizer, "who " * 500, "The Tigers won.", max_length=64, stride=16)


def test_stride_must_be_below_max_length(word_tokenizer) -> None:
    with pytest.raises(decode.DecodeError, match="stride"):
        decode.encode(word_tokenizer, "Who?", "Tigers.", max_length=32, stride=32)


def test_logits_shape_mismatch(word_tokenizer) -> None:
    enc = decode.encode(word_tokenizer, "Who?", "The Tigers won.")
    bad = np.zeros((2, 3), np.float32)
    with pytest.raises(decode.DecodeError, match="do not match"):
        decode.decode(enc, bad, bad, "The Tigers won.")


def test_long_context_runs_in_bounded_model_calls(word_tokenizer) -> None:
    """answer() calls the model at most MAX_BATCH_WINDOWS windows at a time; the answer is the same."""
    context = " ".join(f"Tigers{i % 7} defeated Lions in {1900 + i}." for i in range(1500)) + " Then Lindqvist won."
    target = context.index("Lindqvist")
    calls: list[int] = []

    enc = decode.encode(word_tokenizer, "Who won?", context, max_length=128, stride=32)

    def infer(ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        offset = sum(calls)  # windows arrive in order, chunk after chunk
        calls.append(len(ids))
        start = np.zeros(ids.shape, np.float32)
        end = np.zeros(ids.shape, np.float32)
        for r in range(len(ids)):  # a high score on Lindqvist wherever it appears, by offsets
            w = enc.windows[offset + r]
            for t, (o, s) in enumerate(zip(w.offsets, w.sequence_ids, strict=True)):
                if s == 1 and o[0] == target:
                    start[r, t] = end[r, t] = 12.0
        return start, end

    n_windows = len(enc.windows)
    assert n_windows > 2 * decode.MAX_BATCH_WINDOWS
    ans = decode.answer(infer, word_tokenizer, "Who won?", context, max_length=128, stride=32)
    assert max(calls) <= decode.MAX_BATCH_WINDOWS and sum(calls) == n_windows
    assert len(calls) == -(-n_windows // decode.MAX_BATCH_WINDOWS)
    assert ans.text == "Lindqvist" and ans.start == target
    calls.clear()
    whole = decode.answer(
        infer, word_tokenizer, "Who won?", context, max_length=128, stride=32, max_batch_windows=10**6
    )
    assert calls == [n_windows] and (whole.text, whole.start, whole.score) == (ans.text, ans.start, ans.score)


def test_token_type_ids_are_the_windows_type_ids(word_tokenizer) -> None:
    context = " ".join(f"Tigers{i % 7} defeated Lions in {1900 + i}." for i in range(40))
    enc = decode.encode(word_tokenizer, "Who won?", context, max_length=64, stride=16)
    assert enc.token_type_ids.dtype == np.int32 and enc.token_type_ids.shape == enc.input_ids.shape
    for i, w in enumerate(enc.windows):
        n = len(w.input_ids)
        assert enc.token_type_ids[i, :n].tolist() == w.type_ids
        assert not enc.token_type_ids[i, n:].any()  # padding: 0
        # BERT's post-processor: 0 for [CLS] question [SEP], 1 for the context and its [SEP]
        assert w.type_ids == [1 if s == 1 else 0 for s in w.sequence_ids[:-1]] + [1]
    assert enc.cls_id == word_tokenizer.token_to_id("[CLS]")


def test_answer_feeds_token_types_sliced_like_the_ids(word_tokenizer) -> None:
    context = " ".join(f"Tigers{i % 7} defeated Lions in {1900 + i}." for i in range(200))
    enc = decode.encode(word_tokenizer, "Who won?", context, max_length=64, stride=16)
    seen: list[tuple[tuple[int, ...], tuple[int, ...]]] = []

    def infer3(ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seen.append((ids.shape, types.shape))
        assert types.dtype == np.int32 and ((types == 0) | (types == 1)).all()
        assert not types[mask == 0].any()
        return np.zeros(ids.shape, np.float32), np.zeros(ids.shape, np.float32)

    decode.answer(
        infer3, word_tokenizer, "Who won?", context, max_length=64, stride=16, token_types=True, max_batch_windows=4
    )
    assert len(seen) == -(-len(enc.windows) // 4) and all(a == b for a, b in seen)

    def infer2(ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(ids.shape, np.float32), np.zeros(ids.shape, np.float32)

    decode.answer(infer2, word_tokenizer, "Who won?", context, max_length=64, stride=16)  # default: two inputs
