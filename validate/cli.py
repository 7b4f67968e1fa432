"""``python -m validate DIR``: validate every format; the exit code is 0 only if all passed."""

from __future__ import annotations

import argparse
from pathlib import Path

from qaport.boundary import entry_point
from qaport.errors import QaportError, UsageError
from qaport.squad import Example, load_examples
from validate.browser import SOFTWARE_GPU_QUESTIONS
from validate.runners.base import RunnerError


def _pairs(values: list[str], flag: str) -> dict[str, float]:
    out = {}
    for v in values:
        key, sep, num = v.partition("=")
        try:
            out[key.strip()] = float(num)
        except ValueError:
            sep = ""
        if not sep:
            msg = f"{flag} {v!r}: expected NAME=NUMBER, e.g. {flag} onnx-int8:start_logits=0.5"
            raise UsageError(msg)
    return out


def _words(values: list[str], flag: str) -> dict[str, str]:
    out = {}
    for v in values:
        key, sep, word = v.partition("=")
        if not sep or not key.strip() or not word.strip():
            msg = f"{flag} {v!r}: expected NAME=STAT, e.g. {flag} int8=p99 (statistics: max, p99, mean)"
            raise UsageError(msg)
        out[key.strip()] = word.strip()
    return out


# The options that can change a verdict; report.json and report.md print them as given.
VERDICT_OPTIONS = (
    "examples",
    "limit",
    "only",
    "exclude",
    "atol",
    "agreement",
    "error_stat",
    "max_em_drop",
    "max_f1_drop",
    "tfjs_backend",
    "node_timeout",
    "handle_impossible_answer",
    "software_gpu_questions",
)


def verdict_options(args: argparse.Namespace) -> dict[str, object]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k in VERDICT_OPTIONS}


def _selectors(values: list[str], flag: str) -> tuple[str, ...]:
    """``--only``/``--exclude`` names, repeated or comma-separated; a name that matches no target, format,
    runtime or host is refused (else a typo would validate nothing, or skip nothing, and say so only late)."""
    from qaport.registry import FORMATS, RUNTIMES
    from validate.validation import selectable_names

    known = selectable_names()
    names = tuple(n.strip() for v in values for n in v.split(",") if n.strip())
    for name in names:
        if name not in known:
            hosts = ", ".join(sorted({r.host for r in RUNTIMES.values()}))
            msg = (
                f"{flag} {name}: no such target, format, runtime or host; use a format ({', '.join(FORMATS)}), "
                f"a runtime ({', '.join(RUNTIMES)}), a host ({hosts}) or FORMAT@RUNTIME"
            )
            raise UsageError(msg)
    return names


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m validate", description=__doc__)
    p.add_argument("dir", type=Path, help="artifact directory written by python -m convert")
    p.add_argument("--examples", type=Path, help="SQuAD v1.1 JSON or JSON lines of {question, context, answers?}")
    p.add_argument("--limit", type=int, help="use at most N questions of the held-out / examples set")
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        help="skip targets, formats, runtimes or hosts: python, node, browser (repeatable or comma-separated)",
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        help="validate only these targets/formats/runtimes/hosts (repeatable or comma-separated)",
    )
    p.add_argument(
        "--atol", action="append", default=[], help="tolerance, e.g. onnx-int8=0.5 or float16:end_logits=0.1"
    )
    p.add_argument("--agreement", action="append", default=[], help="minimum answer agreement, e.g. int8=0.9")
    p.add_argument(
        "--handle-impossible-answer",
        action="store_true",
        help="SQuAD 2.0: the null answer when it outscores every span, as the pipeline's option "
        "(on by itself when the examples hold unanswerable questions)",
    )
    p.add_argument(
        "--error-stat",
        action="append",
        default=[],
        help="logit statistic --atol bounds: max, p99 or mean (defaults: float32=max, float16=p99, int8=p99)",
    )
    p.add_argument(
        "--max-em-drop", action="append", default=[], help="allowed EM drop against float32 in points, e.g. int8=2"
    )
    p.add_argument(
        "--max-f1-drop", action="append", default=[], help="allowed F1 drop against float32 in points, e.g. int8=2"
    )
    p.add_argument("--tfjs-backend", choices=("wasm", "cpu"), default="wasm")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--runs-short", type=int, default=10)
    p.add_argument("--runs-long", type=int, default=4)
    p.add_argument("--node-timeout", type=float, default=300.0, help="seconds before a silent Node process is killed")
    p.add_argument(
        "--software-gpu-questions",
        type=_count_or_all,
        default=SOFTWARE_GPU_QUESTIONS,
        metavar="N|all",
        help=f"questions a browser backend on a software renderer answers (default {SOFTWARE_GPU_QUESTIONS})",
    )
    return p


def _count_or_all(text: str) -> int | None:
    if text == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"expected a positive number of questions or 'all', got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def gather_examples(args: argparse.Namespace, kind: str) -> tuple[list[Example], dict[str, int], dict[str, list[int]]]:
    """(examples, count per source, latency sets). The protocol texts come last; see scored_indices."""
    from validate.inputs import heldout_examples, protocol_examples, super_bowl_example

    examples: list[Example] = []
    sources: dict[str, int] = {}
    if args.examples:
        loaded = load_examples(args.examples)
        loaded = loaded[: args.limit] if args.limit else loaded
        examples += loaded
        sources[str(args.examples)] = len(loaded)
    else:
        if kind == "default":
            held = heldout_examples(args.limit)
            examples += held
            sources["held-out set"] = len(held)
        examples.append(super_bowl_example())
        sources["super bowl"] = 1
    short = protocol_examples("short", 6)
    long = protocol_examples("long", 3)
    latency = {
        "short": list(range(len(examples), len(examples) + 3)),
        "long": list(range(len(examples) + len(short), len(examples) + len(short) + 2)),
    }
    examples += short + long
    sources["protocol short (500-1,000 chars)"] = len(short)
    sources["protocol long (4,000-5,000 chars)"] = len(long)
    return examples, sources, latency


def scored_indices(sources: dict[str, int]) -> list[int]:
    """The examples whose gold answers count in EM/F1: all but the protocol (latency) texts at the end."""
    protocol = sum(n for name, n in sources.items() if name.startswith("protocol "))
    return list(range(sum(sources.values()) - protocol))


class ReferenceFailed(QaportError):
    """The Keras reference cannot be rebuilt: nothing can be compared."""

    exit_code = 2


@entry_point("validate")
def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except RunnerError as exc:  # only the reference's escapes: a target's failure is its own report row
        raise ReferenceFailed(f"reference model: {exc}") from exc


def _main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from qaport.manifest import load_manifest
    from validate.report import write_report
    from validate.validation import Settings, validate_dir

    root = args.dir
    if not root.is_dir():
        msg = f"artifact directory {root} does not exist; convert first: python -m convert --out {root}"
        raise UsageError(msg)
    manifest = load_manifest(root)
    settings = Settings(
        atol=_pairs(args.atol, "--atol"),
        agreement=_pairs(args.agreement, "--agreement"),
        exclude=_selectors(args.exclude, "--exclude"),
        only=_selectors(args.only, "--only"),
        tfjs_backend=args.tfjs_backend,
        node_timeout=args.node_timeout,
        software_gpu_questions=args.software_gpu_questions,
        warmup=args.warmup,
        runs_short=args.runs_short,
        runs_long=args.runs_long,
        error_stat=_words(args.error_stat, "--error-stat"),
        max_em_drop=_pairs(args.max_em_drop, "--max-em-drop"),
        max_f1_drop=_pairs(args.max_f1_drop, "--max-f1-drop"),
    )
    _ = settings.policy  # an unknown --error-stat is refused before the reference is built
    from validate.validation import select_targets

    if not select_targets(manifest, settings)[0]:
        msg = (
            f"no target of {root} is left to validate with --only {','.join(settings.only) or '-'} "
            f"--exclude {','.join(settings.exclude) or '-'} (its formats: {', '.join(manifest['formats'])}); "
            "widen the selection or convert the missing formats (python -m convert --formats ...)"
        )
        raise UsageError(msg)
    examples, sources, latency = gather_examples(args, manifest["source"].get("kind", ""))
    from qaport import squad

    # SQuAD 2.0 examples (unanswerable questions) turn the null answer on: without it they cannot be right
    args.handle_impossible_answer = args.handle_impossible_answer or squad.has_unanswerable(examples)
    settings.handle_impossible_answer = args.handle_impossible_answer
    report = validate_dir(
        root,
        examples,
        sources,
        latency,
        settings,
        progress=lambda s: print(s, flush=True),
        scored=scored_indices(sources),
        options=verdict_options(args),
    )
    json_path, md_path = write_report(root, report)
    print(md_path.read_text(encoding="utf-8"))
    print(f"wrote {json_path} and {md_path}")
    return 0 if report["passed"] else 1
