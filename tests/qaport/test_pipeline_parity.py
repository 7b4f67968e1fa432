"""Our reference decoding equals transformers' QuestionAnsweringPipeline on the same Keras model (the default
DistilBERT): the best answer, and the top 3 with the null answer (top_k=3, handle_impossible_answer=True).
Every other architecture and tokenizer family: test_decode_families.py."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def test_same_answers_as_transformers_pipeline() -> None:
    from tokenizers import Tokenizer
    from transformers import pipeline

    from convert.savedmodel_export import serving_function
    from convert.sources import load_model
    from qaport import decode
    from qaport.default_model import CHECKPOINT_DIR
    from validate.inputs import heldout_examples, protocol_examples, super_bowl_example

    loaded = load_model(None)
    qa = pipeline("question-answering", model=loaded.model, tokenizer=loaded.tokenizer, framework="tf", dtype=None)
    fn = serving_function(loaded.model)

    def infer(ids, mask):  # type: ignore[no-untyped-def]
        out = fn(ids, mask)
        return out["start_logits"].numpy(), out["end_logits"].numpy()

    tokenizer = Tokenizer.from_file(str(CHECKPOINT_DIR / "tokenizer.json"))
    examples = [
        *heldout_examples(40),
        super_bowl_example(),
        *protocol_examples("short", 5),
        *protocol_examples("long", 6),
    ]
    multi_window = 0
    for ex in examples:
        ours = decode.answer(infer, tokenizer, ex.question, ex.context)
        theirs = qa(question=ex.question, context=ex.context)
        assert (ours.text, ours.start, ours.end) == (theirs["answer"], theirs["start"], theirs["end"]), ex.id
        assert ours.score == pytest.approx(theirs["score"], abs=1e-4), ex.id
        top = decode.answers(infer, tokenizer, ex.question, ex.context, top_k=3, handle_impossible_answer=True)
        ref = qa(question=ex.question, context=ex.context, top_k=3, handle_impossible_answer=True)
        ref = ref if isinstance(ref, list) else [ref]
        assert [(a.text, a.start, a.end) for a in top] == [(r["answer"], r["start"], r["end"]) for r in ref], ex.id
        assert [a.score for a in top] == pytest.approx([r["score"] for r in ref], abs=1e-4), ex.id
        if len(decode.encode(tokenizer, ex.question, ex.context).windows) > 1:
            multi_window += 1
    assert len(examples) >= 50
    assert multi_window >= 6
