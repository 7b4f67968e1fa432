"""decode.py equals transformers' QuestionAnsweringPipeline for every tokenizer family and architecture.

For each tiny ``random:`` architecture (qaport.architectures.RANDOM_MODELS: WordPiece cased and uncased,
byte-level BPE, Unigram SentencePiece; BERT, DistilBERT, RoBERTa, MobileBERT, ALBERT), a seeded TF model
and its offline tokenizer (qaport.offline_tokenizers) are built here; the reference is
``pipeline("question-answering", model=<that model>, tokenizer=<its fast tokenizer>, framework="tf")``
and ours is ``decode.answer`` on the same model's logits, with the tokenizer.json the tokenizer saves
(what a conversion ships). Random weights give non-trivial logits: near-uniform probabilities, so the
null answer of ``handle_impossible_answer`` wins now and then.

Checked per question (52: 40 held-out SQuAD-style, the Super Bowl paragraph, 5 short and 6 long
protocol texts, the long ones several windows each):

- the windows: input ids, token type ids and the pipeline's ``p_mask`` (context by sequence ids, every
  cls token kept) equal ours window for window;
- the answer (text, start, end) is identical and its score equal to 1e-4 relative (the pipeline's softmax
  is float32, ours float64, and short windows may share one padded call here);
- ``top_k=3, handle_impossible_answer=True``: the same answers in the same order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = [pytest.mark.tf, pytest.mark.slow]

SEED = 1234
MODELS = ("tiny-bert", "tiny-bert-uncased", "tiny-distilbert", "tiny-roberta", "tiny-mobilebert", "tiny-albert")
SCORE_REL = 1e-4


def examples() -> list[Any]:
    from validate.inputs import heldout_examples, protocol_examples, super_bowl_example

    return [*heldout_examples(40), super_bowl_example(), *protocol_examples("short", 5), *protocol_examples("long", 6)]


class Family:
    """One tiny architecture: its TF model, its transformers tokenizer, the pipeline and our tokenizer."""

    def __init__(self, name: str, tmp: Path) -> None:
        import tensorflow as tf
        import transformers
        from tokenizers import Tokenizer

        from qaport.architectures import RANDOM_MODELS
        from qaport.offline_tokenizers import offline_tokenizer

        spec = RANDOM_MODELS[name]
        self.name, self.arch = name, spec.arch
        self.hf_tokenizer = offline_tokenizer(
            spec.arch.tokenizer_family,
            spec.vocab_size,
            lowercase=spec.lowercase,
            tokenizer_class=spec.arch.tokenizer_class,
            **spec.tokenizer,
        )
        tf.keras.utils.set_random_seed(SEED)
        config = getattr(transformers, spec.arch.config_class)(**spec.config)
        self.model = getattr(transformers, spec.arch.qa_class)(config)
        self.model(self.model.dummy_inputs, training=False)
        self.pipeline = transformers.pipeline(
            "question-answering", model=self.model, tokenizer=self.hf_tokenizer, framework="tf", dtype=None
        )
        self.hf_tokenizer.save_pretrained(str(tmp))
        self.tokenizer = Tokenizer.from_file(str(tmp / "tokenizer.json"))
        self.token_types = spec.arch.uses_token_type_ids

    def infer(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray | None = None) -> tuple[Any, Any]:
        feeds = {"input_ids": ids, "attention_mask": mask}
        if types is not None:
            feeds["token_type_ids"] = types
        out = self.model(**feeds, training=False)
        return out.start_logits.numpy(), out.end_logits.numpy()


@pytest.fixture(scope="module", params=MODELS)
def family(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Family:
    return Family(request.param, tmp_path_factory.mktemp(request.param))


def _as_list(result: Any) -> list[dict[str, Any]]:
    return result if isinstance(result, list) else [result]


def _windows_problems(fam: Family, ex: Any) -> list[str]:
    """Our windows against the pipeline's preprocess(): ids, token types, p_mask."""
    from qaport import decode

    theirs = list(fam.pipeline.preprocess({"question": ex.question, "context": ex.context}))
    ours = decode.encode(fam.tokenizer, ex.question, ex.context)
    if len(theirs) != len(ours.windows):
        return [f"{ex.id}: {len(ours.windows)} windows, the pipeline {len(theirs)}"]
    problems = []
    for w, (feature, window) in enumerate(zip(theirs, ours.windows, strict=True)):
        ids = feature["input_ids"].numpy()[0].tolist()
        if ids != window.input_ids:
            problems.append(f"{ex.id} window {w}: input ids differ")
        if "token_type_ids" in feature and feature["token_type_ids"].numpy()[0].tolist() != window.type_ids:
            problems.append(f"{ex.id} window {w}: token type ids differ")
        p_mask = np.asarray(feature["p_mask"]).reshape(-1).astype(bool)
        if (~p_mask).tolist() != decode.candidate_mask(window, ours.cls_id).tolist():
            problems.append(f"{ex.id} window {w}: candidate mask differs from the pipeline's p_mask")
    return problems


def _same(ours: Any, theirs: dict[str, Any]) -> bool:
    return (ours.text, ours.start, ours.end) == (theirs["answer"], theirs["start"], theirs["end"]) and bool(
        ours.score == pytest.approx(theirs["score"], rel=SCORE_REL, abs=1e-12)
    )


def test_same_windows_and_answers_as_the_pipeline(family: Family) -> None:
    from qaport import decode

    exs = examples()
    problems: list[str] = []
    multi_window = null_in_top = 0
    for ex in exs:
        problems += _windows_problems(family, ex)
        ours = decode.answer(family.infer, family.tokenizer, ex.question, ex.context, token_types=family.token_types)
        theirs = family.pipeline(question=ex.question, context=ex.context)
        if not _same(ours, theirs):
            problems.append(f"{ex.id}: ours {ours.as_dict()} / pipeline {theirs}")
        top = decode.answers(
            family.infer,
            family.tokenizer,
            ex.question,
            ex.context,
            top_k=3,
            handle_impossible_answer=True,
            token_types=family.token_types,
        )
        ref = _as_list(
            family.pipeline(question=ex.question, context=ex.context, top_k=3, handle_impossible_answer=True)
        )
        if len(top) != len(ref) or not all(_same(a, b) for a, b in zip(top, ref, strict=False)):
            problems.append(f"{ex.id} top 3: ours {[a.as_dict() for a in top]} / pipeline {ref}")
        null_in_top += any(a.text == "" for a in top)
        multi_window += len(decode.encode(family.tokenizer, ex.question, ex.context).windows) > 1
    print(f"{family.name}: {len(exs)} questions, {multi_window} multi-window, null answer in top 3: {null_in_top}")
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:10])
    assert len(exs) >= 50
    assert multi_window >= 6


def test_null_answer_and_top_k_on_the_pipelines_own_logits(family: Family) -> None:
    """SQuAD 2.0 models push [CLS]: the pipeline's logits with [CLS] raised by 0 to 4 (so that the null
    answer wins about half the time) through its own postprocess, and through decode_answers."""
    from qaport import decode

    exs = examples()
    problems: list[str] = []
    null_best = 0
    for i, ex in enumerate(exs):
        pipe = family.pipeline
        outputs = [pipe._forward(f) for f in pipe.preprocess({"question": ex.question, "context": ex.context})]
        enc = decode.encode(family.tokenizer, ex.question, ex.context)
        start = np.full(enc.input_ids.shape, -1e4, np.float32)
        end = np.full(enc.input_ids.shape, -1e4, np.float32)
        for w, out in enumerate(outputs):
            s, e = out["start"].numpy().copy(), out["end"].numpy().copy()
            s[0, 0] += i % 5
            e[0, 0] += i % 5
            out["start"], out["end"] = s, e
            start[w, : s.shape[1]], end[w, : e.shape[1]] = s[0], e[0]
        for top_k in (1, 3):
            ref = _as_list(pipe.postprocess(outputs, top_k=top_k, handle_impossible_answer=True))
            ours = decode.decode_answers(enc, start, end, ex.context, top_k=top_k, handle_impossible_answer=True)
            if len(ours) != len(ref) or not all(_same(a, b) for a, b in zip(ours, ref, strict=False)):
                problems.append(f"{ex.id} top {top_k}: ours {[a.as_dict() for a in ours]} / pipeline {ref}")
        best = decode.decode(enc, start, end, ex.context, handle_impossible_answer=True)
        null_best += best.text == ""
    print(f"{family.name}: {len(exs)} questions, the null answer best in {null_best}")
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:10])
    assert 5 <= null_best <= len(exs) - 5  # both verdicts are exercised
