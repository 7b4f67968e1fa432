"""``python -m validate.soak DIR --questions 1000``: many questions through each Node.js runtime.

Each Node.js runtime (TF.js and onnxruntime-node, one long-lived process each, as validation runs
them) answers N questions end to end in JavaScript. After every request the runner's RSS and, for
TF.js, ``tf.memory().numTensors`` are read. It passes when

- the TF.js tensor count is back to its value before the first request after every request;
- the mean RSS of the last hundred requests is within ``--max-rss-growth`` (5%) of the first hundred's,
  measured after ``--warmup`` (100) unmeasured requests, half on the largest inputs and half on the first
  questions: onnxruntime's arena and the wasm heap grow to the largest input seen and keep that size, a
  working set rather than a leak;
- every answer matches Python's: the reference is qaport.decode on onnxruntime's (Python) logits of
  the float32 ONNX model; float32 formats may differ only by ties (spans whose scores are equal within
  the comparison's tie tolerance), quantised ones by the validation's agreement rate. The verdict on
  answers is validate.judge's, the one ``python -m validate`` uses, with the same ``--agreement``.

The questions cycle through the model's held-out set (default model) or generated texts, with one
4,000-5,000-character context (several windows) in every ten.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qaport import decode
from qaport.boundary import entry_point
from qaport.errors import QaportError, UsageError
from qaport.manifest import load_manifest, verify_files
from qaport.squad import Example
from validate import compare, judge

Progress = Callable[[str], None]
DEFAULT_FORMATS = ("tfjs", "onnx")
REFERENCE_FORMAT = "onnx"
BLOCK = 100  # "the first and last hundred"
LONG_EVERY = 10


class LoadError(QaportError):
    exit_code = 2


@dataclass
class Reference:
    example: Example
    encoded: decode.Encoded
    start: Any
    end: Any
    answer: decode.Answer


def questions(kind: str, count: int) -> list[Example]:
    """``count`` questions, one long context in every ten, cycling through the pool when it runs out."""
    from validate.inputs import heldout_examples, protocol_examples

    n_long = max(1, count // LONG_EVERY)
    long = protocol_examples("long", min(n_long, 100))
    short = heldout_examples() if kind == "default" else protocol_examples("short", min(count, 600))
    out: list[Example] = []
    for i in range(count):
        if i % LONG_EVERY == LONG_EVERY - 1:
            out.append(long[(i // LONG_EVERY) % len(long)])
        else:
            out.append(short[(i - i // LONG_EVERY) % len(short)])
    return out


def references(root: Path, manifest: dict[str, Any], examples: list[Example]) -> dict[str, Reference]:
    """Python's answer for each distinct question: qaport.decode on onnxruntime's float32 logits."""
    from validate.runners.ort_runner import OnnxRuntimeRunner

    record = manifest["formats"].get(REFERENCE_FORMAT)
    if record is None:
        msg = f"{root} has no {REFERENCE_FORMAT} format, the reference of the load test; convert it too"
        raise LoadError(msg)
    out: dict[str, Reference] = {}
    with OnnxRuntimeRunner(REFERENCE_FORMAT, root, record, root / "tokenizer.json") as runner:
        for ex in examples:
            if ex.id in out:
                continue
            enc = decode.encode(runner.tokenizer, ex.question, ex.context)
            start, end = runner.infer(enc.input_ids, enc.attention_mask)
            out[ex.id] = Reference(ex, enc, start, end, decode.decode(enc, start, end, ex.context))
    return out


def _node_runtime(root: Path, fmt: str, record: dict[str, Any], backend: str, timeout: float) -> Any:
    from validate.node_bridge import NodeRuntime

    kind = "tfjs" if fmt.startswith("tfjs") else "onnx"
    return NodeRuntime(
        kind,
        root / record["main_file"],
        backend=backend if kind == "tfjs" else None,
        tokenizer=root / "tokenizer.json",
        output_map=record["output_names"] if kind == "tfjs" else None,
        timeout=timeout,
    )


def run_format(
    root: Path,
    fmt: str,
    record: dict[str, Any],
    examples: list[Example],
    refs: dict[str, Reference],
    *,
    backend: str = "wasm",
    timeout: float = 300.0,
    max_rss_growth: float = 0.05,
    warmup: int = 100,
    progress: Progress = print,
    policy: judge.Policy | None = None,
) -> dict[str, Any]:
    """Answer every example in one node process; memory after every request; answers judged."""
    rss: list[int] = []
    tensors: list[int] = []
    tally = {"agree": 0, "tie": 0, "disagree": 0}
    disagreements: list[dict[str, Any]] = []
    started = time.perf_counter()
    # half on the largest inputs, half on the run's own first questions: allocators (ORT's arena, the
    # wasm heap, V8's heap) and the JIT reach their working size before anything is measured
    largest = sorted(refs.values(), key=lambda r: -r.encoded.input_ids.size)[: (warmup + 1) // 2]
    warm = [(r.example.question, r.example.context) for r in largest]
    warm += [(ex.question, ex.context) for ex in examples[: warmup - len(warm)]]
    with _node_runtime(root, fmt, record, backend, timeout) as rt:
        start_tensors = rt.stats()["num_tensors"]
        for question, context in warm:
            rt.answer(question, context)
        if start_tensors is not None and rt.stats()["num_tensors"] != start_tensors:
            tensors.append(int(rt.stats()["num_tensors"]))  # a leak during warm-up counts too
        for i, ex in enumerate(examples, start=1):
            got, _ = rt.answer(ex.question, ex.context)
            stats = rt.stats()
            rss.append(int(stats["rss_bytes"]))
            if start_tensors is not None:
                tensors.append(int(stats["num_tensors"]))
            ref = refs[ex.id]
            answer = decode.Answer(got["text"], float(got["score"]), int(got["start"]), int(got["end"]))
            kind = compare.classify(
                ref.answer, answer, ref.encoded, ref.start, ref.end, ex.context, max_answer_len=decode.MAX_ANSWER_LEN
            )
            tally[kind] += 1
            if kind == "disagree" and len(disagreements) < 5:
                disagreements.append({"id": ex.id, "reference": ref.answer.as_dict(), "got": answer.as_dict()})
            if i % 100 == 0 or i == len(examples):
                progress(f"    {fmt}: {i}/{len(examples)} answered, RSS {rss[-1] / 1e6:.1f} MB")
        peak = rt.stats()
    seconds = time.perf_counter() - started
    block = min(BLOCK, len(rss) // 2) or 1
    first, last = statistics.fmean(rss[:block]), statistics.fmean(rss[-block:])
    growth = (last - first) / first
    precision = record["precision"]
    runtime_id = f"tfjs-{backend}" if fmt.startswith("tfjs") else "onnxruntime-node"
    criteria = (policy or judge.Policy()).criteria(f"{fmt}@{runtime_id}", fmt, runtime_id, precision)
    agreement = (tally["agree"] + tally["tie"]) / len(examples)
    verdict = judge.judge({"answers": {**tally, "agreement": agreement}}, criteria)
    leaked = [n for n in tensors if n != start_tensors]
    reasons = []
    if leaked:
        reasons.append(
            f"TF.js tensor count left at {leaked[0]} (start {start_tensors}) after {len(leaked)} of "
            f"{len(tensors)} requests"
        )
    if growth >= max_rss_growth:
        reasons.append(
            f"RSS grew {growth:.1%} between the first and last {block} requests (limit {max_rss_growth:.0%})"
        )
    reasons += [f"{r} (against Python's answers)" for r in verdict.reasons]
    return {
        "format": fmt,
        "runtime": rt.describe(),
        "questions": len(examples),
        "warmup": len(warm),
        "seconds": seconds,
        "block": block,
        "rss_first_mean_bytes": first,
        "rss_last_mean_bytes": last,
        "rss_growth": growth,
        "peak_rss_bytes": peak.get("peak_rss_bytes"),
        "tensors_start": start_tensors,
        "tensors_min": min(tensors) if tensors else None,
        "tensors_max": max(tensors) if tensors else None,
        "answers": {**tally, "agreement": agreement, "required": criteria.agreement},
        "criteria": criteria.as_dict(),
        "rss_every_10_mb": [round(r / 1e6, 1) for r in rss[::10]],
        "disagreements": disagreements,
        "passed": not reasons,
        "reasons": reasons,
    }


def run_load(
    root: Path,
    count: int,
    formats: tuple[str, ...] = DEFAULT_FORMATS,
    *,
    backend: str = "wasm",
    timeout: float = 300.0,
    max_rss_growth: float = 0.05,
    warmup: int = 100,
    progress: Progress = print,
    policy: judge.Policy | None = None,
) -> dict[str, Any]:
    manifest = load_manifest(root)
    verify_files(root, manifest, allow_extra=("report.json", "report.md"))
    unknown = [f for f in formats if f not in manifest["formats"] or f == "savedmodel"]
    if unknown:
        have = ", ".join(f for f in manifest["formats"] if f != "savedmodel")
        msg = f"--formats {', '.join(unknown)}: not a Node.js format of {root} (it has {have})"
        raise UsageError(msg)
    examples = questions(manifest["source"].get("kind", ""), count)
    progress(f"reference: {len({e.id for e in examples})} distinct questions through onnxruntime (Python) ...")
    refs = references(root, manifest, examples)
    results = []
    for fmt in formats:
        progress(f"{fmt}: {count} questions through node ...")
        results.append(
            run_format(
                root,
                fmt,
                manifest["formats"][fmt],
                examples,
                refs,
                backend=backend,
                timeout=timeout,
                max_rss_growth=max_rss_growth,
                warmup=warmup,
                progress=progress,
                policy=policy,
            )
        )
    return {
        "artifact_dir": str(root),
        "questions": count,
        "results": results,
        "passed": all(r["passed"] for r in results),
    }


def table(report: dict[str, Any]) -> str:
    head = (
        f"{'format':<10} {'runtime':<10} {'questions':>9} {'seconds':>8} {'q/s':>6} "
        f"{'RSS first':>10} {'RSS last':>9} {'growth':>7} {'peak MB':>8} {'tensors start/min/max':>22} "
        f"{'agree/tie/disagree':>19}  result"
    )
    rows = [head]
    for r in report["results"]:
        t = "-" if r["tensors_start"] is None else f"{r['tensors_start']}/{r['tensors_min']}/{r['tensors_max']}"
        a = r["answers"]
        result = "passed" if r["passed"] else "FAILED: " + "; ".join(r["reasons"])
        rows.append(
            f"{r['format']:<10} {r['runtime']:<10} {r['questions']:>9} {r['seconds']:>8.1f} "
            f"{r['questions'] / r['seconds']:>6.1f} {r['rss_first_mean_bytes'] / 1e6:>8.1f}MB "
            f"{r['rss_last_mean_bytes'] / 1e6:>7.1f}MB {r['rss_growth']:>+7.2%} "
            f"{(r['peak_rss_bytes'] or 0) / 1e6:>8.1f} {t:>22} "
            f"{a['agree']:>7}/{a['tie']}/{a['disagree']:<5}  {result}"
        )
    first = report["results"][0]
    rows.append(
        f"(RSS first/last: mean RSS of the node process over the first and last {first['block']} measured requests, "
        f"after {first['warmup']} unmeasured warm-up requests, half of them on the largest inputs)"
    )
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m validate.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("dir", type=Path, help="artifact directory written by python -m convert")
    p.add_argument("--questions", type=int, default=1000, help="questions per runtime (default 1000)")
    p.add_argument("--formats", default=",".join(DEFAULT_FORMATS), help="Node.js formats (default tfjs,onnx)")
    p.add_argument("--tfjs-backend", choices=("wasm", "cpu"), default="wasm")
    p.add_argument("--max-rss-growth", type=float, default=0.05, help="allowed RSS growth, first vs last hundred")
    p.add_argument(
        "--warmup", type=int, default=100, help="unmeasured requests first (half on the largest inputs; default 100)"
    )
    p.add_argument("--node-timeout", type=float, default=300.0, help="seconds before a silent Node process is killed")
    p.add_argument(
        "--agreement", action="append", default=[], help="minimum answer agreement, as python -m validate's (int8=0.9)"
    )
    p.add_argument("--json", type=Path, help="also write the measurements to this file")
    return p


@entry_point("validate.soak")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.questions < 2:
        msg = f"--questions {args.questions}: need at least 2 (first and last requests are compared)"
        raise UsageError(msg)
    if not args.dir.is_dir():
        msg = f"artifact directory {args.dir} does not exist; convert first: python -m convert --out {args.dir}"
        raise UsageError(msg)
    from validate.cli import _pairs

    policy = judge.Policy(agreement=_pairs(args.agreement, "--agreement"))
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    # a node crash or hang (NodeRuntimeError) is one ERROR line with node's stderr tail, exit 1
    report = run_load(
        args.dir,
        args.questions,
        formats,
        backend=args.tfjs_backend,
        timeout=args.node_timeout,
        max_rss_growth=args.max_rss_growth,
        warmup=args.warmup,
        progress=lambda s: print(s, flush=True),
        policy=policy,
    )
    print(table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
