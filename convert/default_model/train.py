"""Train the embedded default model: ``python -m convert.default_model.train [--out DIR] [--seed N] [--check]``.

Deterministic end to end (seeded corpus, tokenizer, initialisation and batch order; TensorFlow op
determinism and fixed thread counts), so ``--check`` can retrain and demand bit-identical weights.
Runs in under 15 minutes on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from convert.default_model import CHECKPOINT_DIR, HELDOUT_PATH, corpus, features  # noqa: E402
from convert.default_model.evaluation import evaluate_checkpoint, weight_diff  # noqa: E402

SEED = 0
HELDOUT_SEED = 2024
HELDOUT_PARAGRAPHS = 240
THREADS = 2


@dataclass(frozen=True)
class Settings:
    """Architecture and budget; the defaults are what the committed checkpoint was trained with."""

    n_layers: int = 2
    dim: int = 128
    n_heads: int = 4
    hidden_dim: int = 512
    vocab_size: int = 5000
    num_train_examples: int = 36000
    epochs: int = 1
    tokens_per_batch: int = 8192
    learning_rate: float = 1e-3
    warmup: float = 0.06
    mix: tuple[float, float, float, float] = (0.0, 0.45, 0.35, 0.2)
    """Share of tiny / short / medium / long paragraphs (see ``corpus.LENGTH_CLASSES``)."""
    init_range: float = 0.02
    sinusoidal: float = 0.0
    """If > 0, start position embeddings as sinusoids of this RMS: relative offsets are then linear maps
    from the first step, and positions beyond the trained lengths are not random."""
    beta_2: float = 0.999
    aux_weight: float = 0.0
    """Weight of dense auxiliary losses (token in question / in answer / ends a word) from a throw-away head."""
    word_targets: bool = False
    """Train start / end on whole words (any piece of the answer's first / last word)."""
    curriculum: float = 0.0
    """0: batches in random order; 1: short batches first, long ones last (with overlap)."""


def configure_tensorflow(seed: int) -> Any:
    """Seeds, op determinism and a fixed thread count (results depend on how work is split)."""
    import tensorflow as tf
    import tf_keras

    try:
        tf.config.threading.set_intra_op_parallelism_threads(THREADS)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # the runtime is already up (e.g. inside a test session): keep its settings
        pass
    tf.config.experimental.enable_op_determinism()
    tf_keras.utils.set_random_seed(seed)
    return tf


def _sinusoids(length: int, dim: int) -> np.ndarray:
    position = np.arange(length, dtype=np.float64)[:, None]
    rate = np.exp(-np.log(10000.0) * np.arange(0, dim, 2, dtype=np.float64) / dim)
    table = np.zeros((length, dim))
    table[:, 0::2] = np.sin(position * rate)
    table[:, 1::2] = np.cos(position * rate)
    return table


def _schedule(peak: float, total: int, warmup: int) -> Any:
    import tensorflow as tf
    import tf_keras

    class WarmupLinear(tf_keras.optimizers.schedules.LearningRateSchedule):
        """Linear warm-up, then linear decay to zero."""

        def __call__(self, step: Any) -> Any:
            step = tf.cast(step, tf.float32)
            up = step / max(warmup, 1)
            down = (total - step) / max(total - warmup, 1)
            return peak * tf.maximum(tf.minimum(up, down), 0.0)

        def get_config(self) -> dict[str, Any]:
            return {"peak": peak, "total": total, "warmup": warmup}

    return WarmupLinear()


def train(
    out_dir: str | Path,
    seed: int = SEED,
    *,
    num_train_examples: int | None = None,
    epochs: int | None = None,
    settings: Settings | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Generate, tokenise and train; save model + tokenizer to ``out_dir``; return a summary."""
    base = settings or Settings()
    overrides = {k: v for k, v in (("num_train_examples", num_train_examples), ("epochs", epochs)) if v is not None}
    cfg = Settings(**{**asdict(base), **overrides})
    t0 = time.perf_counter()
    paragraphs: list[corpus.Paragraph] = []
    count = 0
    mix = dict(zip(corpus.LENGTH_CLASSES, cfg.mix, strict=True))
    for para in corpus.generate(seed, sys.maxsize, "train", mix=mix, max_questions=2):
        paragraphs.append(para)
        count += len(para.qas)
        if count >= cfg.num_train_examples:
            break
    vocab = features.train_vocab([p.context for p in paragraphs] + [q.question for p in paragraphs for q in p.qas], cfg.vocab_size)
    tokenizer = features.hf_tokenizer(vocab)
    data = features.encode(tokenizer.backend_tokenizer, paragraphs)
    log(f"corpus: {len(paragraphs)} paragraphs, {len(data.ids)} examples ({data.dropped} too long), "
        f"{sum(map(len, data.ids))} tokens, vocab {len(vocab)} ({time.perf_counter() - t0:.0f} s)")  # fmt: skip

    tf = configure_tensorflow(seed)
    import tf_keras
    from transformers import DistilBertConfig, TFDistilBertForQuestionAnswering

    config = DistilBertConfig(
        vocab_size=len(vocab), max_position_embeddings=features.MODEL_MAX_LENGTH, n_layers=cfg.n_layers,
        n_heads=cfg.n_heads, dim=cfg.dim, hidden_dim=cfg.hidden_dim, dropout=0.0, attention_dropout=0.0,
        qa_dropout=0.0, activation="gelu", pad_token_id=0, initializer_range=cfg.init_range,
    )  # fmt: skip
    model = TFDistilBertForQuestionAnswering(config)
    model(model.dummy_inputs, training=False)
    if cfg.sinusoidal > 0:
        table = _sinusoids(features.MODEL_MAX_LENGTH, cfg.dim) * cfg.sinusoidal * np.sqrt(2.0)
        model.distilbert.embeddings.position_embeddings.assign(table.astype(np.float32))
    plan = [features.batches(data, cfg.tokens_per_batch, seed * 1000 + epoch, cfg.curriculum) for epoch in range(cfg.epochs)]
    total = sum(map(len, plan))
    optimizer = tf_keras.optimizers.Adam(
        _schedule(cfg.learning_rate, total, int(total * cfg.warmup)), beta_2=cfg.beta_2, global_clipnorm=1.0
    )
    aux_head = tf_keras.layers.Dense(3, name="aux_head")
    aux_head.build([None, None, cfg.dim])
    variables = model.trainable_variables + (aux_head.trainable_variables if cfg.aux_weight > 0 else [])
    spec = tf.TensorSpec([None, None], tf.int32)
    fspec = tf.TensorSpec([None, None], tf.float32)

    def span_loss(logits: Any, targets: Any) -> Any:
        if not cfg.word_targets:  # the first marked piece only
            targets = tf.one_hot(tf.argmax(targets, axis=1), tf.shape(targets)[1])
        marked = tf.where(targets > 0, logits, -1e9)
        return tf.reduce_mean(tf.reduce_logsumexp(logits, axis=1) - tf.reduce_logsumexp(marked, axis=1))

    @tf.function(input_signature=[spec, spec, fspec, fspec, tf.TensorSpec([None, None, 3], tf.float32), fspec])
    def step(ids: Any, mask: Any, start_words: Any, end_words: Any, aux: Any, context: Any) -> Any:
        with tf.GradientTape() as tape:
            hidden = model.distilbert(input_ids=ids, attention_mask=mask, training=True)[0]
            start_logits, end_logits = tf.unstack(model.qa_outputs(hidden), axis=-1)
            loss = (span_loss(start_logits, start_words) + span_loss(end_logits, end_words)) / 2.0
            if cfg.aux_weight > 0:
                bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=aux, logits=aux_head(hidden))
                aux_loss = tf.reduce_sum(bce * context[:, :, None]) / (3.0 * tf.reduce_sum(context))
                loss += cfg.aux_weight * aux_loss
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    t1 = time.perf_counter()
    done = 0
    running = 0.0
    for epoch, batches in enumerate(plan):
        for batch in batches:
            loss = float(step(batch.input_ids, batch.attention_mask, batch.start_words, batch.end_words, batch.aux, batch.context))
            running = loss if done == 0 else 0.98 * running + 0.02 * loss
            done += 1
            if done % 100 == 0 or done == total:
                log(f"epoch {epoch + 1} step {done}/{total} loss {running:.3f} ({time.perf_counter() - t1:.0f} s)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    return {
        "settings": asdict(cfg), "paragraphs": len(paragraphs), "examples": len(data.ids),
        "tokens": sum(map(len, data.ids)), "steps": total, "final_loss": running,
        "train_seconds": time.perf_counter() - t1, "total_seconds": time.perf_counter() - t0,
    }  # fmt: skip


def write_heldout(path: Path, seed: int = HELDOUT_SEED, paragraphs: int = HELDOUT_PARAGRAPHS) -> int:
    """The held-out set: another seed and only held-out names; returns the number of questions."""
    mix = {"short": 0.3, "medium": 0.4, "long": 0.3}
    paras = list(corpus.generate(seed, paragraphs, "heldout", mix=mix, max_questions=3))
    path.write_text(json.dumps(corpus.to_squad(paras, prefix="heldout-"), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return sum(len(p.qas) for p in paras)


def _report(checkpoint: Path, heldout: Path) -> None:
    scores = evaluate_checkpoint(checkpoint, heldout)
    print(f"held-out: EM {scores['exact_match']:.2f}  F1 {scores['f1']:.2f}  ({scores['count']} questions)")
    print(f"Super Bowl: {scores['super_bowl']!r} (score {scores['super_bowl_score']:.3f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convert.default_model.train", description=__doc__)
    parser.add_argument("--out", type=Path, default=CHECKPOINT_DIR, help="checkpoint directory (default: the embedded one)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--check", action="store_true", help="retrain in a temp dir; exit 0 only if weights equal the committed ones")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            summary = train(Path(tmp) / "checkpoint", args.seed)
            diff = weight_diff(CHECKPOINT_DIR, Path(tmp) / "checkpoint")
            held = Path(tmp) / "heldout.json"
            write_heldout(held)
            same_heldout = held.read_bytes() == HELDOUT_PATH.read_bytes()
        print(f"trained {summary['steps']} steps in {summary['train_seconds']:.0f} s")
        print(f"weights: {diff['arrays']} arrays, {diff['different']} differ, max abs diff {diff['max_abs_diff']:.3g}")
        print(f"tokenizer files identical: {diff['tokenizer_same']}; heldout.json identical: {same_heldout}")
        print(f"elapsed: {time.perf_counter() - start:.0f} s")
        ok = diff["different"] == 0 and diff["missing"] == 0 and diff["tokenizer_same"] and same_heldout
        print("OK: the committed checkpoint is reproduced exactly" if ok else "MISMATCH: the retrained weights differ")
        return 0 if ok else 1
    summary = train(args.out, args.seed)
    count = write_heldout(HELDOUT_PATH)
    print(f"trained {summary['steps']} steps on {summary['examples']} examples in {summary['train_seconds']:.0f} s")
    print(f"held-out set: {count} questions -> {HELDOUT_PATH}")
    _report(args.out, HELDOUT_PATH)
    print(f"elapsed: {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
