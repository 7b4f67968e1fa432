"""One benchmark run: peak, then every system in its own worker, then the levers; then the analysis."""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

import psutil

from bench import analysis, flops, node_levers, ort_parity, targets, worker
from bench import browser as browser_bench
from bench.systems import SYSTEMS, TRUNCATED, USUAL_Q8, unavailable_reason
from qaport import decode
from qaport.manifest import load_manifest
from validate.inputs import protocol_examples

BUSY_SHARE = 0.10  # other processes' share of the machine above which a measurement is flagged


def questions(root: Path, protocol: dict[str, Any]) -> list[analysis.Question]:
    """The post's protocol texts, tokenised once here for the token and FLOP counts."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
    whole = Tokenizer.from_file(str(root / "tokenizer.json"))
    whole.no_truncation()
    out = []
    for cls, count in (("short", protocol["short_questions"]), ("long", protocol["long_questions"])):
        for ex in protocol_examples(cls, count):
            enc = decode.encode(tokenizer, ex.question, ex.context)
            pair = len(whole.encode(ex.question, ex.context).ids)
            out.append(analysis.Question(ex.id, cls, ex.question, ex.context, enc, pair))
    return out


class CpuWatch:
    """CPU used by other processes while a worker ran, so a contended measurement is flagged, not trusted.

    Busy time of the whole machine minus what this process and its (reaped) workers used.
    """

    def __enter__(self) -> CpuWatch:
        self._start = (_busy_seconds(), _own_seconds(), time.perf_counter())
        return self

    def __exit__(self, *exc: object) -> None:
        busy, own, wall = _busy_seconds(), _own_seconds(), time.perf_counter()
        other = (busy - self._start[0]) - (own - self._start[1])
        capacity = (wall - self._start[2]) * (psutil.cpu_count() or 1)
        self.other_seconds, self.capacity = other, capacity
        self.other_share = max(0.0, other / capacity) if capacity > 0 else 0.0

    def credit(self, seconds: float) -> None:
        """CPU time that was this run's own though no wait() reported it (see bench.browser.run)."""
        self.other_seconds -= seconds
        self.other_share = max(0.0, self.other_seconds / self.capacity) if self.capacity > 0 else 0.0


def _busy_seconds() -> float:
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "steal", 0.0) - getattr(t, "guest", 0.0))


def _own_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def wait_idle(limit: float, progress: Any, busy_percent: float = 15.0, settle: int = 2) -> bool:
    """Wait (at most ``limit`` s) until the machine has been idle for ``settle`` 5-second samples."""
    deadline = time.monotonic() + limit
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if psutil.cpu_percent(interval=5.0) < busy_percent else 0
        if quiet >= settle:
            return True
    progress(f"    the CPU is still busy after {limit:.0f} s of waiting; measuring anyway (flagged)")
    return False


def _watched(job: dict[str, Any], timeout: float, idle_wait: float, progress: Any) -> dict[str, Any]:
    """Run a job; with ``idle_wait``, first wait for an idle machine and redo a contended measurement once."""
    for attempt in (1, 2):
        if idle_wait:
            wait_idle(idle_wait, progress)
        with CpuWatch() as watch:
            result = worker.run(job, timeout=timeout)
        result["other_cpu_share"] = watch.other_share
        result["attempts"] = attempt
        if not idle_wait or watch.other_share <= BUSY_SHARE or attempt == 2:
            break
        progress(f"    other processes used {watch.other_share:.0%} of the CPU meanwhile: measuring again when idle")
    return result


def _best_peak(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Per precision, the higher of two peak measurements; ``runs`` keeps both."""
    if first.get("status") != "ok" or second.get("status") != "ok":
        return first if first.get("status") == "ok" else second
    best = dict(first)
    for key, keys in (
        ("peak_gflops", ("peak_source", "square", "model_shape")),
        ("int8_peak_gops", ("int8_peak_source", "int8_square", "int8_model_shape")),
    ):
        if float(second.get(key) or 0.0) > float(first.get(key) or 0.0):
            best.update({k: second[k] for k in (key, *keys) if k in second})
    best["runs"] = [
        {k: r.get(k) for k in ("peak_gflops", "int8_peak_gops", "other_cpu_share")} for r in (first, second)
    ]
    if float(second.get("peak_gflops") or 0.0) > float(first.get("peak_gflops") or 0.0):
        best["other_cpu_share"] = second.get("other_cpu_share", 0.0)  # the contention of the run it came from
    return best


def _fixed_length(manifest: dict[str, Any]) -> int | None:
    value = manifest.get("fixed_length")
    return int(value) if isinstance(value, int) and value > 0 else None


def run_benchmark(
    root: Path,
    *,
    protocol: dict[str, Any],
    mode: str,
    systems: list[str] | None,
    timeout: float,
    machine: dict[str, Any],
    progress: Any,
    idle_wait: float = 0.0,
    browser: bool = True,
    browser_levers: bool = True,
) -> dict[str, Any]:
    manifest = load_manifest(root)
    arch = flops.Architecture.from_config(manifest["source"]["config"])
    qs = questions(root, protocol)
    jobs = [q.job() for q in qs]
    quick = mode == "quick"

    progress("[peak] float32 and int8 matmul microbenchmarks (numpy and onnxruntime, all cores) ...")
    peak = _watched({"kind": "peak", "quick": quick}, 600, idle_wait, progress)
    peak_gflops = float(peak.get("peak_gflops") or 0.0)
    peaks = {"float32": peak_gflops, "int8": float(peak.get("int8_peak_gops") or 0.0)}
    progress(
        f"[peak] float32 {peak_gflops:.0f} GFLOP/s ({peak.get('peak_source', peak.get('reason'))}), "
        f"int8 {peaks['int8']:.0f} GOP/s ({peak.get('int8_peak_source', '-')}); CPU int8 features: "
        f"{(peak.get('cpu_int8_features') or {}).get('summary', '-')}"
    )

    entries: list[dict[str, Any]] = []
    web_levers: dict[str, Any] = {"status": "unavailable", "reason": "no browser system ran"}
    chosen = [s for s in SYSTEMS.values() if systems is None or s.id in systems or s.id == "pipeline"]
    web: list[str] = []
    for n, system in enumerate(chosen, start=1):
        tag = f"[{n}/{len(chosen)}] {system.id} ({system.runtime})"
        skipped = "not asked for (--no-browser)" if system.language == "browser" and not browser else None
        reason = skipped or unavailable_reason(system, manifest, root)
        if reason:
            progress(f"{tag}: not available: {reason}")
            entries.append({"id": system.id, "system": system.as_dict(), "status": "unavailable", "reason": reason})
            continue
        if system.language == "browser":  # run together below, in one driver
            web.append(system.id)
            continue
        progress(f"{tag} ...")
        job: dict[str, Any] = {"kind": "system", "system": system.id, "dir": str(root), "questions": jobs}
        # logits for the answer checks: the float32 reference everywhere, int8 for transformers.js q8's rules
        wanted = {"keras": list(analysis.CLASSES), "onnx-int8": ["short"], "onnx": ["short"]}.get(system.id, [])
        job.update(protocol=protocol, logits=wanted)
        result = _watched(job, timeout, idle_wait, progress)
        entries.append({"id": system.id, "system": system.as_dict(), **result})
        progress(f"{tag}: {_brief(result)}")

    if web:
        progress(f"[browser] {', '.join(web)} in headless Chromium, one fresh browser each ...")
        if idle_wait:
            wait_idle(idle_wait, progress)
        accounting: dict[str, float] = {}
        with CpuWatch() as watch:
            got, web_levers = browser_bench.run(
                web, root, jobs, protocol, timeout, progress, levers=browser_levers, accounting=accounting
            )
        watch.credit(accounting.get("unreaped_cpu_seconds", 0.0))
        for sid in web:
            entries.append(
                {"id": sid, "system": SYSTEMS[sid].as_dict(), **got[sid], "other_cpu_share": watch.other_share}
            )
        progress(f"[browser] done (other processes used {watch.other_share:.0%} of the CPU meanwhile)")

    spread = interleaved_spread(entries, root, jobs, protocol, timeout, progress, rounds=0 if quick else SPREAD_ROUNDS)

    progress("[levers] padding, batching, threads, optimisation level, int8, fusions, profile ...")
    if "onnx" in manifest["formats"]:
        short = next((j for j in jobs if j["class"] == "short"), None)
        long = next((j for j in jobs if j["class"] == "long"), None)
        lever_job = {"kind": "levers", "dir": str(root), "short": short, "long": long, "runs": protocol["lever_runs"]}
        levers = _watched(lever_job, timeout, idle_wait, progress)
    else:
        levers = {"status": "unavailable", "reason": "no onnx format in this artifact directory"}
    progress(f"[levers] {levers.get('status')} ({levers.get('wall_seconds', 0):.0f} s)")

    ran = {e["id"] for e in entries if e.get("status") == "ok"}
    phased = [s for s in node_levers.SYSTEM_IDS if s in ran]
    progress(f"[node levers] where the time goes in {', '.join(phased) or 'no Node.js system'} ...")
    if phased:
        node_job = {"kind": "node-levers", "dir": str(root), "systems": phased, "runs": protocol["lever_runs"] // 2 + 1}
        node_job.update(
            short=next(j for j in jobs if j["class"] == "short"), long=next(j for j in jobs if j["class"] == "long")
        )
        node = _watched(node_job, timeout, idle_wait, progress)
    else:
        node = {"status": "unavailable", "reason": "none of the phased Node.js systems ran"}
    progress(f"[node levers] {node.get('status')} ({node.get('wall_seconds', 0):.0f} s)")

    onnx_kinds = ort_parity.onnx_formats(manifest)
    if onnx_kinds and "onnxruntime-node" not in {e["system"]["runtime"] for e in entries if e.get("status") == "ok"}:
        parity = {"status": "unavailable", "reason": "no onnxruntime-node system ran"}
    elif onnx_kinds:
        short_width = max(len(w.input_ids) for q in qs if q.cls == "short" for w in q.encoded.windows)
        progress(
            f"[ort parity] the same ONNX file's model call in Python and Node.js, interleaved, at 384 and "
            f"{short_width} tokens: {', '.join(onnx_kinds)} ..."
        )
        parity_job: dict[str, Any] = {"kind": "ort-parity", "dir": str(root), "widths": [384, short_width]}
        parity_job.update(rounds=2 if quick else 4, runs=3 if quick else 5)
        parity = _watched(parity_job, timeout, idle_wait, progress)
    else:
        parity = {"status": "unavailable", "reason": "no ONNX format in this artifact directory"}
    progress(f"[ort parity] {parity.get('status')} ({parity.get('wall_seconds', 0):.0f} s)")

    # The peak is an upper bound: on a shared machine one contended minute understates it, so it is
    # measured again after the systems and the higher of the two is used (both are in bench.json).
    progress("[peak] again, after the systems ...")
    again = _watched({"kind": "peak", "quick": quick}, 600, idle_wait, progress)
    peak = _best_peak(peak, again)
    peak_gflops = float(peak.get("peak_gflops") or 0.0)
    peaks = {"float32": peak_gflops, "int8": float(peak.get("int8_peak_gops") or 0.0)}
    progress(f"[peak] float32 {peak_gflops:.0f} GFLOP/s, int8 {peaks['int8']:.0f} GOP/s (the higher of two runs)")

    analysis.summarise(entries, qs, arch, peaks, _fixed_length(manifest))
    from bench import transformers_js

    peers = {sid: s.precision for sid, s in SYSTEMS.items() if s.calls == TRUNCATED}
    transformers_js.rules_check(entries, qs, root, peers, _usual_reference(entries, qs, root, manifest))
    for e in entries:
        e.pop("logits", None)
    measured = {"peak": peak, "levers": levers, "node_levers": node, "ort_parity": parity}
    measured |= {e["id"]: e for e in entries}
    contended = {
        k: round(v["other_cpu_share"], 3) for k, v in measured.items() if v.get("other_cpu_share", 0) > BUSY_SHARE
    }
    machine = {**machine, "cpu_busy_percent_at_end": psutil.cpu_percent(interval=0.5), "contended": contended}
    machine["cpu_int8_features"] = peak.get("cpu_int8_features")
    return {
        "schema_version": 1,
        "mode": mode,
        "model": manifest["source"].get("spec"),
        "artifact_dir": str(root),
        "architecture": arch.as_dict(),
        "machine": machine,
        "protocol": protocol,
        "questions": [
            {
                "id": q.id,
                "class": q.cls,
                "context_chars": len(q.context),
                "windows": q.window_lengths,
                "batch": list(q.encoded.input_ids.shape),
            }
            for q in qs
        ],
        "peak": peak,
        "systems": entries,
        "levers": levers,
        "node_levers": node,
        "ort_parity": parity,
        "spread": spread,
        "browser_levers": web_levers,
        "targets": targets.judge(
            entries,
            levers if levers.get("status") == "ok" else {},
            peaks,
            node.get("systems", {}) if node.get("status") == "ok" else {},
            web_levers,
            parity if parity.get("status") == "ok" else {},
            spread,
        ),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


SPREAD_ROUNDS = 3  # full mode: pipeline and the fastest system, alternately, this many times each
SPREAD_PROTOCOL = {"warmup": 1, "runs": 3, "min_runs": 2, "budget_s": 15.0}


def _fastest(entries: list[dict[str, Any]]) -> str | None:
    """The system of ours with the lowest short median so far (answers are judged later, on the main pass)."""
    best, best_ms = None, float("inf")
    for e in entries:
        system = SYSTEMS[e["id"]]
        if e.get("status") != "ok" or e["id"] in ("pipeline", "keras") or system.calls == TRUNCATED:
            continue
        times = [t for qid, ts in e.get("times_ms", {}).items() if qid.startswith("short") for t in ts]
        if times and sorted(times)[len(times) // 2] < best_ms:
            best, best_ms = e["id"], sorted(times)[len(times) // 2]
    return best


def spread_summary(rounds: list[dict[str, Any]], busy_share: float = BUSY_SHARE) -> dict[str, Any]:
    """Per text class, the ratio pipeline / fastest in each round, and its min / median / max."""
    out: dict[str, Any] = {}
    for cls in analysis.CLASSES:
        ratios = [r["ratio"][cls] for r in rounds if cls in r.get("ratio", {})]
        if ratios:
            out[cls] = {"ratios": ratios, "min": min(ratios), "median": float(sorted(ratios)[len(ratios) // 2])}
            out[cls]["max"] = max(ratios)
    out["contended_rounds"] = [
        i for i, r in enumerate(rounds, start=1) if max(r.get("other_cpu_share", {}).values(), default=0) > busy_share
    ]
    return out


def interleaved_spread(
    entries: list[dict[str, Any]],
    root: Path,
    jobs: list[dict[str, Any]],
    protocol: dict[str, Any],
    timeout: float,
    progress: Any,
    rounds: int,
) -> dict[str, Any]:
    """The pipeline and the fastest system timed in alternating fresh workers (order reversed every other
    round), so the spread of their ratio under the machine's changing load is measured, not assumed; each
    round says how much of the CPU other processes used."""
    fastest = _fastest(entries)
    base_ok = any(e["id"] == "pipeline" and e.get("status") == "ok" for e in entries)
    if not rounds:
        return {
            "status": "unavailable",
            "reason": "full mode only (--quick leaves it out: two more model loads a round)",
        }
    if fastest is None or not base_ok:
        return {"status": "unavailable", "reason": "the pipeline or no system of ours ran"}
    progress(f"[spread] pipeline and {fastest}, interleaved, {rounds} rounds ...")
    out: list[dict[str, Any]] = []
    for n in range(rounds):
        pair = ["pipeline", fastest] if n % 2 == 0 else [fastest, "pipeline"]
        rec: dict[str, Any] = {"order": pair, "p50_ms": {}, "other_cpu_share": {}, "ratio": {}}
        for sid in pair:
            job: dict[str, Any] = {"kind": "system", "system": sid, "dir": str(root), "questions": jobs, "logits": []}
            job["protocol"] = {**protocol, **SPREAD_PROTOCOL}
            with CpuWatch() as watch:
                got = worker.run(job, timeout=timeout)
            rec["other_cpu_share"][sid] = watch.other_share
            if got.get("status") != "ok":
                rec["error"] = f"{sid}: {got.get('reason')}"
                continue
            rec["p50_ms"][sid] = {
                cls: float(sorted(ts)[len(ts) // 2])
                for cls in analysis.CLASSES
                if (ts := [t for qid, v in got["times_ms"].items() if qid.startswith(cls) for t in v])
            }
        if len(rec["p50_ms"]) == 2:
            rec["ratio"] = {
                cls: rec["p50_ms"]["pipeline"][cls] / rec["p50_ms"][fastest][cls]
                for cls in rec["p50_ms"]["pipeline"]
                if cls in rec["p50_ms"][fastest]
            }
        busy = max(rec["other_cpu_share"].values())
        progress(
            f"[spread] round {n + 1}: "
            + ", ".join(f"{cls} {r:.2f}x" for cls, r in rec["ratio"].items())
            + f" (other processes used up to {busy:.0%} of the CPU)"
        )
        out.append(rec)
    return {"status": "ok", "system": fastest, "rounds": out, **spread_summary(out)}


def _usual_reference(
    entries: list[dict[str, Any]], qs: list[analysis.Question], root: Path, manifest: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The usual q8 file's own logits (Python onnxruntime) on the short questions, for its rules check."""
    from bench import usual_q8

    ran = any(e["id"] == USUAL_Q8 and e.get("status") == "ok" for e in entries)
    if not ran or not usual_q8.directory(root).is_dir():
        return {}
    short = {
        q.id: (q.encoded.input_ids, q.encoded.attention_mask, getattr(q.encoded, "token_type_ids", None))
        for q in qs
        if q.cls == "short"
    }
    names = manifest["formats"]["onnx"].get("output_names") or {}
    return {
        USUAL_Q8: {
            "id": "usual q8 file on onnxruntime",
            "logits": usual_q8.logits(usual_q8.directory(root), short, names),
        }
    }


def _brief(result: dict[str, Any]) -> str:
    if result.get("status") != "ok":
        return f"{result.get('status')}: {result.get('reason')}"
    times = result.get("times_ms", {})
    parts = []
    for cls in analysis.CLASSES:
        ts = [t for qid, v in times.items() if qid.startswith(cls) for t in v]
        if ts:
            parts.append(f"{cls} median {sorted(ts)[len(ts) // 2]:.1f} ms")
    busy = result.get("other_cpu_share", 0.0)
    warn = f"; WARNING: other processes used {busy:.0%} of the CPU meanwhile" if busy > BUSY_SHARE else ""
    return ", ".join(parts) + f" ({result.get('wall_seconds', 0):.0f} s{warn})"
