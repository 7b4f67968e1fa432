"""Validate every format of an artifact directory against the Keras reference, in its own runtime."""

from __future__ import annotations

import platform
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qaport import decode
from qaport.errors import UsageError
from qaport.manifest import check_entries, load_manifest, unlisted_files

# The runtime vocabulary, which runtimes prove each format (TARGETS) and which runtimes.mjs loader a
# format needs (NODE_KIND): the one registry of formats and runtimes.
from qaport.registry import NODE_KIND, RUNTIMES, TARGETS
from qaport.squad import Example
from validate import compare, judge
from validate.browser import SOFTWARE_GPU_LATENCY, SOFTWARE_GPU_QUESTIONS
from validate.latency import summarize
from validate.report import SCHEMA_VERSION
from validate.runners.base import Runner, RuntimeUnavailable

Progress = Callable[[str], None]
REPORT_FILES = ("report.json", "report.md")


@dataclass(frozen=True)
class Target:
    """One format in one runtime: the unit that passes or fails."""

    format: str
    runtime: str  # one of RUNTIMES

    @property
    def id(self) -> str:
        return f"{self.format}@{self.runtime}"


@dataclass
class Settings:
    atol: dict[str, float] = field(default_factory=dict)  # "<target|format|runtime|precision>[:output]" -> atol
    agreement: dict[str, float] = field(default_factory=dict)  # "<target|format|runtime|precision>" -> min rate
    exclude: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    tfjs_backend: str = "wasm"
    node_timeout: float = 300.0
    warmup: int = 2
    runs_short: int = 10
    runs_long: int = 4
    latency_examples: int = 3
    max_answer_len: int = decode.MAX_ANSWER_LEN
    tie_tolerance: float = compare.TIE_TOLERANCE
    error_stat: dict[str, str] = field(default_factory=dict)  # "<key>" -> max | p99 | mean
    max_em_drop: dict[str, float] = field(default_factory=dict)  # "<key>" -> EM points
    max_f1_drop: dict[str, float] = field(default_factory=dict)  # "<key>" -> F1 points
    handle_impossible_answer: bool = False  # SQuAD 2.0: the null answer competes with the spans
    # A browser backend on a software renderer (SwiftShader WebGL/WebGPU where there is no GPU) runs a model
    # call 5-40x slower than wasm: it answers this many questions, spread over the set (None: all). The
    # measurements behind the default: docs/browser.md.
    software_gpu_questions: int | None = SOFTWARE_GPU_QUESTIONS

    @property
    def policy(self) -> judge.Policy:
        return judge.Policy(self.atol, self.agreement, self.error_stat, self.max_em_drop, self.max_f1_drop)

    def answer_from(self, enc: decode.Encoded, start: Any, end: Any, context: str) -> decode.Answer:
        """The answer Python decodes from one question's logits, with this run's decoding options (the
        reference and every Python target alike)."""
        return decode.decode(
            enc,
            start,
            end,
            context,
            max_answer_len=self.max_answer_len,
            handle_impossible_answer=self.handle_impossible_answer,
        )


def make_runner(target: Target, root: Path, record: dict[str, Any], settings: Settings) -> Runner:
    tokenizer = root / "tokenizer.json"
    if target.runtime == "tensorflow":
        from validate.runners.tf_runner import SavedModelRunner

        return SavedModelRunner(target.format, root, record, tokenizer)
    if target.runtime == "onnxruntime":
        from validate.runners.ort_runner import OnnxRuntimeRunner

        return OnnxRuntimeRunner(target.format, root, record, tokenizer)
    from validate.runners.node_runner import NodeRunner

    if target.runtime not in RUNTIMES or target.format not in NODE_KIND:
        msg = f"no runner for {target.id}; runtimes: {', '.join(RUNTIMES)}"
        raise ValueError(msg)
    runtime = RUNTIMES[target.runtime]
    browser = runtime.host == "browser"
    return NodeRunner(
        target.format,
        root,
        record,
        tokenizer,
        runtime_id=target.runtime,
        runtime_kind=NODE_KIND[target.format],
        backend=runtime.web_backend if browser else runtime.tfjs_backend,
        timeout=settings.node_timeout,
        host=runtime.host,
    )


def runtimes_of(fmt: str, settings: Settings) -> tuple[str, ...]:
    """The runtimes a format is validated in (``--tfjs-backend cpu`` swaps tfjs-wasm for tfjs-cpu)."""
    chosen = TARGETS.get(fmt, ())
    if settings.tfjs_backend == "cpu":
        chosen = tuple("tfjs-cpu" if r == "tfjs-wasm" else r for r in chosen)
    return chosen


def select_targets(manifest: dict[str, Any], settings: Settings) -> tuple[list[Target], list[Target]]:
    """(to run, excluded by the user). Names match a target id, a format, a runtime or a host
    (``python``, ``node``, ``browser``: e.g. ``--exclude browser`` skips every headless-Chromium target)."""
    chosen: list[Target] = []
    excluded: list[Target] = []
    for fmt in manifest["formats"]:
        for runtime in runtimes_of(fmt, settings):
            t = Target(fmt, runtime)
            names = _names(t)
            if settings.only and not names & set(settings.only):
                continue
            (excluded if names & set(settings.exclude) else chosen).append(t)
    return chosen, excluded


def _names(t: Target) -> set[str]:
    """The names ``--only``/``--exclude`` match a target by: its id, format, runtime and host."""
    return {t.id, t.format, t.runtime, RUNTIMES[t.runtime].host if t.runtime in RUNTIMES else t.runtime}


def selectable_names() -> set[str]:
    """Every name ``select_targets`` can match, for any format of the registry and either ``--tfjs-backend``."""
    backends = (Settings(tfjs_backend="wasm"), Settings(tfjs_backend="cpu"))
    return {n for fmt in TARGETS for s in backends for rt in runtimes_of(fmt, s) for n in _names(Target(fmt, rt))}


@dataclass
class Prepared:
    examples: list[Example]
    encoded: list[decode.Encoded]
    ref_logits: list[tuple[np.ndarray, np.ndarray]]
    ref_answers: list[decode.Answer]
    latency_sets: dict[str, list[int]]
    tokenizer_problem: str | None = None
    scored: list[Example] = field(default_factory=list)  # whose gold answers count in EM/F1
    ref_gold: dict[str, float] | None = None  # the reference's EM/F1 on ``scored``


def type_ids(runner: Runner, enc: decode.Encoded) -> np.ndarray | None:
    """The windows' token_type_ids for a model that takes them (BERT, MobileBERT, ALBERT), else None."""
    if not runner.uses_token_types:
        return None
    types = getattr(enc, "token_type_ids", None)
    if types is None:
        msg = f"{runner.name} takes token_type_ids but decode.encode gave none; update qaport.decode"
        raise ValueError(msg)
    return np.asarray(types)


def spread(n: int, k: int) -> list[int]:
    """``k`` indices spread evenly over ``range(n)`` (all of them when ``k >= n``)."""
    if k >= n:
        return list(range(n))
    return sorted({(i * n) // k for i in range(k)})


def _measure_latency(
    runner: Runner, prepared: Prepared, settings: Settings, limits: dict[str, int] | None = None
) -> dict[str, Any]:
    """Model-call and end-to-end times over the latency sets; ``limits``: at most so many texts per class."""
    out: dict[str, Any] = {}
    for cls, runs in (("short", settings.runs_short), ("long", settings.runs_long)):
        idx = prepared.latency_sets.get(cls, [])
        if limits is not None and cls in limits:
            idx = idx[: limits[cls]]
        if not idx:
            continue
        call: list[float] = []
        e2e: list[float] = []
        tokens = []
        for i in idx:
            enc = prepared.encoded[i]
            ex = prepared.examples[i]
            call += runner.timed(
                enc.input_ids, enc.attention_mask, settings.warmup, runs, token_type_ids=type_ids(runner, enc)
            )
            _, t = runner.answer(ex.question, ex.context, warmup=settings.warmup, runs=runs)
            e2e += t
            tokens.append(int(enc.attention_mask.sum()))
        out[cls] = {
            "model_call": summarize(call),
            "end_to_end": summarize(e2e),
            "examples": len(idx),
            "mean_tokens": float(np.mean(tokens)),
            "mean_context_chars": float(np.mean([len(prepared.examples[i].context) for i in idx])),
        }
    return out


@dataclass
class Run:
    """What one target produced (step 1 of 3): its logits and answers per example, timings, memory."""

    entry: dict[str, Any]  # identity, load time, latency, memory; status/reason when it could not run
    logits: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    answers: list[decode.Answer] = field(default_factory=list)
    indices: list[int] | None = None  # the examples run, when not all (a software-rendered browser backend)

    @property
    def complete(self) -> bool:
        return "status" not in self.entry


def _identity(target: Target, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": target.id,
        "format": target.format,
        "name": target.format,
        "runtime": target.runtime,
        "precision": record.get("precision"),
        "size_bytes": sum(f.get("size", 0) for f in record.get("files", [])),
    }


def files_of(record: dict[str, Any]) -> str:
    """A format's files, for a reason: both when two or fewer, else the main file and how many more."""
    paths = [str(f.get("path")) for f in record.get("files", [])]
    main = str(record.get("main_file", paths[0] if paths else "?"))
    if len(paths) <= 2:
        return ", ".join(paths) or main
    return f"{main} and {len(paths) - 1} more files under {main.split('/', maxsplit=1)[0]}/"


def run_target(
    target: Target, root: Path, manifest: dict[str, Any], prepared: Prepared, settings: Settings, progress: Progress
) -> Run:
    """Step 1: run every example (and the latency sets) in the target's runtime; no comparison here."""
    record = manifest["formats"][target.format]
    entry = _identity(target, record)
    runner = make_runner(target, root, record, settings)
    runner.handle_impossible_answer = settings.handle_impossible_answer
    try:
        runner.activate()
    except RuntimeUnavailable as exc:
        return Run({**entry, "status": "not_run", "reason": str(exc)})
    except Exception as exc:  # a format that cannot load is this format's failure, not the run's
        reason = f"could not load {files_of(record)}: {type(exc).__name__}: {_first_line(exc)}"
        return Run({**entry, "status": "failed", "reason": reason})
    run = Run(entry)
    try:
        entry["load_seconds"] = runner.load_seconds
        host = RUNTIMES[target.runtime].host if target.runtime in RUNTIMES else "python"
        js = host in ("node", "browser")
        windows_differ = 0
        chosen = list(range(len(prepared.examples)))
        latency_settings = settings
        software = runner.software_renderer
        if software and settings.software_gpu_questions is not None:
            # the long latency texts (4,000-5,000 characters, several windows each) cost most there: one of
            # them stays, so that several windows in one call run on the GPU backend too
            long = prepared.latency_sets.get("long", [])
            rest = sorted(set(chosen) - set(long))
            picked = [rest[j] for j in spread(len(rest), max(1, settings.software_gpu_questions - len(long[:1])))]
            run.indices = chosen = sorted({*picked, *long[:1]})
            latency_settings = replace(  # fewer runs than asked, never more
                settings,
                warmup=min(settings.warmup, SOFTWARE_GPU_LATENCY["warmup"]),
                runs_short=min(settings.runs_short, SOFTWARE_GPU_LATENCY["runs_short"]),
                runs_long=min(settings.runs_long, SOFTWARE_GPU_LATENCY["runs_long"]),
            )
            entry["budget"] = {
                "renderer": software,
                "questions": len(chosen),
                "of": len(prepared.examples),
                "latency": SOFTWARE_GPU_LATENCY,
                "why": f"software renderer ({software}): a model call is 5-40x slower than on wasm",
            }
            progress(
                f"    {target.id}: software renderer ({software}): {len(chosen)} of {len(prepared.examples)} questions"
            )
        for i in chosen:
            ex, enc = prepared.examples[i], prepared.encoded[i]
            if js:  # what a JavaScript consumer gets: tokenised, inferred and decoded in JavaScript, in one run
                got, fed = runner.answer_with_logits(ex.question, ex.context)  # type: ignore[attr-defined]
                logits = same_batch_logits(enc, fed, runner.uses_token_types)
                if logits is None:  # not the reference's batch in one call: compare logits on the reference's batch
                    windows_differ += "input_ids" in fed and not same_batch(enc, fed, runner.uses_token_types)
                    logits = runner.infer(enc.input_ids, enc.attention_mask, type_ids(runner, enc))
            else:
                logits = runner.infer(enc.input_ids, enc.attention_mask, type_ids(runner, enc))
                got = settings.answer_from(enc, *logits, ex.context)
            run.logits.append(logits)
            run.answers.append(got)
        if js:
            entry["windows_differ"] = windows_differ  # questions whose JavaScript windows differ from Python's
        progress(f"    {target.id}: {len(run.answers)} questions answered; timing ...")
        limits = None
        if latency_settings is not settings:
            limits = {"short": SOFTWARE_GPU_LATENCY["short_examples"], "long": SOFTWARE_GPU_LATENCY["long_examples"]}
        entry["latency"] = _measure_latency(runner, prepared, latency_settings, limits)
        entry["peak_rss_bytes"] = runner.peak_rss_bytes()
        entry["rss_scope"] = {
            "node": "node process",
            "browser": "Chromium process tree",
        }.get(host, "validation process (shared by Python runtimes)")
    except Exception as exc:
        entry["status"] = "failed"
        entry["reason"] = f"{files_of(record)} failed to run: {type(exc).__name__}: {_first_line(exc)}"
    finally:
        try:
            runner.deactivate()
        except Exception as exc:
            progress(f"    {target.id}: shutdown failed: {_first_line(exc)}")
    return run


def same_batch(enc: Any, fed: dict[str, Any], uses_token_types: bool) -> bool:
    """Whether the batch a JavaScript run tokenised is the reference's (same windows, ids, mask, types)."""
    names = ["input_ids", "attention_mask", *(["token_type_ids"] if uses_token_types else [])]
    refs = {"input_ids": enc.input_ids, "attention_mask": enc.attention_mask, "token_type_ids": enc.token_type_ids}
    for name in names:
        got = fed.get(name)
        if got is None or got.shape != refs[name].shape or not np.array_equal(got, refs[name]):
            return False
    return True


def same_batch_logits(enc: Any, fed: dict[str, Any], uses_token_types: bool) -> tuple[Any, Any] | None:
    """The logits of a JavaScript end-to-end run, if it fed the model the reference's batch in one call
    (the runner sends them only then): the logits of exactly the reference's input."""
    if "start_logits" not in fed or not same_batch(enc, fed, uses_token_types):
        return None
    return fed["start_logits"].astype(np.float32), fed["end_logits"].astype(np.float32)


def compare_run(run: Run, prepared: Prepared, settings: Settings) -> dict[str, Any]:
    """Step 2: the run's statistics against the reference (over the examples the run ran)."""
    examples, encoded = prepared.examples, prepared.encoded
    ref_logits, ref_answers = prepared.ref_logits, prepared.ref_answers
    scored, ref_gold = prepared.scored, prepared.ref_gold
    if run.indices is not None:
        examples, encoded = [examples[i] for i in run.indices], [encoded[i] for i in run.indices]
        ref_logits, ref_answers = [ref_logits[i] for i in run.indices], [ref_answers[i] for i in run.indices]
        ids = {ex.id for ex in examples}
        scored = [ex for ex in scored if ex.id in ids]
        ref_gold = compare.gold_scores({ex.id: a.text for ex, a in zip(examples, ref_answers, strict=True)}, scored)
    return compare.compare_outputs(
        examples,
        encoded,
        ref_logits,
        ref_answers,
        run.logits,
        run.answers,
        scored=scored,
        ref_gold=ref_gold,
        max_answer_len=settings.max_answer_len,
        tie_tolerance=settings.tie_tolerance,
        handle_impossible_answer=settings.handle_impossible_answer,
    )


def validate_target(
    target: Target, root: Path, manifest: dict[str, Any], prepared: Prepared, settings: Settings, progress: Progress
) -> dict[str, Any]:
    """Run, compare, judge: one report entry."""
    run = run_target(target, root, manifest, prepared, settings, progress)
    entry = run.entry
    criteria = settings.policy.criteria(target.id, target.format, target.runtime, entry["precision"])
    entry["criteria"] = criteria.as_dict()
    if not run.complete:
        return entry
    stats = compare_run(run, prepared, settings)
    entry.update(stats)
    # the judged bounds beside the statistics, as before (report schema 1)
    for output, limit in criteria.atol.items():
        entry["logits"][output]["atol"] = limit
        entry["logits"][output]["judged_stat"] = criteria.stat
    entry["answers"]["required_agreement"] = criteria.agreement
    verdict = judge.judge(stats, criteria)  # step 3
    entry["status"] = "passed" if verdict.passed else "failed"
    entry["not_judged"] = verdict.not_judged
    if verdict.reasons:
        entry["reason"] = verdict.reason
    return entry


def _not_loaded(target: Target, manifest: dict[str, Any], reason: str, status: str = "failed") -> dict[str, Any]:
    return {**_identity(target, manifest["formats"][target.format]), "status": status, "reason": reason}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:500] if text else type(exc).__name__


def tokenizer_mismatch(shipped: Any, model_tokenizer: Any) -> str | None:
    """The shipped tokenizer must be the model's own: same vocabulary, same ids."""
    a, b = shipped.get_vocab(with_added_tokens=True), model_tokenizer.get_vocab(with_added_tokens=True)
    if a == b:
        return None
    differ = sum(1 for tok, i in a.items() if b.get(tok) != i)
    return (
        f"tokenizer.json does not match the model's tokenizer ({len(a)} vs {len(b)} tokens, {differ} ids differ); "
        "re-convert so the tokenizer is copied from the model"
    )


def prepare(
    root: Path,
    manifest: dict[str, Any],
    examples: list[Example],
    latency_sets: dict[str, list[int]],
    settings: Settings,
    progress: Progress,
    scored: list[int] | None = None,
) -> tuple[Prepared, dict[str, Any]]:
    """The reference's logits and answers. ``scored``: indices of the examples whose gold answers
    count in EM/F1 (default all); the latency texts the CLI adds are compared but not scored."""
    from tokenizers import Tokenizer

    from validate.runners.keras_runner import KerasRunner

    tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
    encoded = [decode.encode(tokenizer, ex.question, ex.context) for ex in examples]
    progress(f"reference: Keras model from {manifest['source'].get('spec')} ...")
    ref = KerasRunner("keras", root, manifest["source"], root / "tokenizer.json")
    ref.activate()
    problem = tokenizer_mismatch(tokenizer, ref.loaded.tokenizer.backend_tokenizer)
    if problem:
        progress(f"tokenizer: {problem}")
    logits = []
    answers = []
    for ex, enc in zip(examples, encoded, strict=True):
        start, end = ref.infer(enc.input_ids, enc.attention_mask, type_ids(ref, enc))
        logits.append((start, end))
        answers.append(settings.answer_from(enc, start, end, ex.context))
    chosen = [examples[i] for i in scored] if scored is not None else list(examples)
    ref_gold = compare.gold_scores({ex.id: a.text for ex, a in zip(examples, answers, strict=True)}, chosen)
    prepared = Prepared(examples, encoded, logits, answers, latency_sets, problem, chosen, ref_gold)
    entry = {
        "id": "keras@tf-keras",
        "format": "keras",
        "runtime": "keras (tf-keras)",
        "precision": "float32",
        "status": "reference",
        "load_seconds": ref.load_seconds,
        "gold": ref_gold,
        "latency": _measure_latency(ref, prepared, settings),
    }
    ref.deactivate()
    return prepared, entry


def refuse_unwindowable(
    root: Path, examples: list[Example], latency_sets: dict[str, list[int]], scored: list[int] | None
) -> tuple[list[Example], dict[str, list[int]], list[int] | None, list[dict[str, str]]]:
    """Questions that cannot be windowed (the question alone fills the window) are refused one by one,
    with their id and why; the rest are validated. Latency sets and scored indices follow the kept ones."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
    keep: list[int] = []
    refused: list[dict[str, str]] = []
    for i, ex in enumerate(examples):
        try:
            decode.encode(tokenizer, ex.question, ex.context)
        except decode.DecodeError as exc:
            refused.append({"id": ex.id, "reason": str(exc)})
        else:
            keep.append(i)
    if not refused:
        return examples, latency_sets, scored, refused
    if not keep:
        msg = f"no question of the examples can be windowed (the first, {refused[0]['id']}: {refused[0]['reason']})"
        raise UsageError(msg)
    new = {old: n for n, old in enumerate(keep)}
    latency = {k: [new[i] for i in v if i in new] for k, v in latency_sets.items()}
    kept_scored = None if scored is None else [new[i] for i in scored if i in new]
    return [examples[i] for i in keep], latency, kept_scored, refused


def validate_dir(
    root: Path,
    examples: list[Example],
    sources: dict[str, int],
    latency_sets: dict[str, list[int]],
    settings: Settings,
    progress: Progress = print,
    scored: list[int] | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``options``: the command-line options that change a verdict, printed in the report as given."""
    started = time.perf_counter()
    manifest = load_manifest(root)
    shared_problems = check_entries(root, manifest.get("files", [])) + unlisted_files(root, manifest, REPORT_FILES)
    format_problems = {name: check_entries(root, rec.get("files", [])) for name, rec in manifest["formats"].items()}
    targets, excluded = select_targets(manifest, settings)
    entries = []
    asked = len(examples)
    refused: list[dict[str, str]] = []
    reference: dict[str, Any] = {"id": "keras@tf-keras", "status": "not_run"}
    scored_count = 0
    if shared_problems:
        progress(f"checksums: {'; '.join(shared_problems)}")
        reason = f"artifact directory fails its manifest: {'; '.join(shared_problems)}"
        entries = [_not_loaded(t, manifest, reason) for t in targets]
    else:
        progress(f"checksums of {root} checked")
        examples, latency_sets, scored, refused = refuse_unwindowable(root, examples, latency_sets, scored)
        for r in refused:
            progress(f"refused question {r['id']}: {r['reason']}")
        prepared, reference = prepare(root, manifest, examples, latency_sets, settings, progress, scored)
        scored_count = sum(1 for ex in prepared.scored if ex.has_gold)  # questions EM/F1 are over
        for n, target in enumerate(targets, start=1):
            progress(f"[{n}/{len(targets)}] {target.id} ...")
            t0 = time.perf_counter()
            if format_problems[target.format]:
                entry = _not_loaded(target, manifest, f"checksum: {'; '.join(format_problems[target.format])}")
            elif prepared.tokenizer_problem:
                entry = _not_loaded(target, manifest, prepared.tokenizer_problem)
            else:
                entry = validate_target(target, root, manifest, prepared, settings, progress)
            entry["validation_seconds"] = time.perf_counter() - t0
            progress(
                f"[{n}/{len(targets)}] {target.id}: {entry['status']}"
                + (f" ({entry['reason']})" if entry.get("reason") else "")
            )
            entries.append(entry)
    for target in excluded:
        entries.append({**_not_loaded(target, manifest, "excluded by the user", "not_run"), "excluded": True})
    passed = all(e["status"] == "passed" or e.get("excluded") for e in entries) and bool(targets)
    return {
        "schema_version": SCHEMA_VERSION,
        "artifact_dir": str(root),
        "model": manifest["source"].get("spec"),
        "passed": passed,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "python": platform.python_version(),
        },
        # count: the questions validated; refused: those that cannot be windowed, each with its id and why
        "examples": {"count": len(examples), "asked": asked, "refused": len(refused), "sources": sources},
        "refused": refused,
        "tolerances": {
            "atol": {**compare.DEFAULT_ATOL, **settings.atol},
            "agreement": {**compare.DEFAULT_AGREEMENT, **settings.agreement},
            "tie_tolerance": settings.tie_tolerance,
            "defaults": judge.defaults(),
            "overrides": settings.policy.overrides(),
        },
        "options": options or {},
        "scored_examples": scored_count,
        "reference": reference,
        "targets": entries,
        "validation_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "seconds": time.perf_counter() - started,
    }
