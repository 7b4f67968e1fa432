"""``python -m publish.site DIR``: the demo and proof pages of a converted, validated directory, as a static site.

The site (default ``DIR-site`` beside DIR; DIR itself is never written) holds ``index.html`` (the demo: ask the
model in the browser through qaport's npm client), ``proof.html`` (report.json rendered), their esbuild
bundles, ``model/`` (the manifest and the files a browser runs: ONNX and TF.js, no SavedModel),
``report.json``, ``site.json`` (example texts and the model's options) and the runtimes' wasm files under
``qaport-wasm/``. Relative URLs only, no CDN, no server code: publish the directory as it is (served with
COOP/COEP headers, wasm gets threads). ``--serve`` serves it on 127.0.0.1; ``--check`` answers the Super
Bowl question in headless Chromium, compares the answer with Python's and saves screenshots.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from publish.checks import PublishRefused, load_report
from qaport.boundary import entry_point
from qaport.errors import QaportError, UsageError
from qaport.manifest import ManifestError, load_manifest

ROOT = Path(__file__).resolve().parent.parent
JS_DIR = ROOT / "js"
WEB_DIR = JS_DIR / "web"
NODE_MODULES = JS_DIR / "node_modules"
WEB_ASSETS = JS_DIR / "client" / "web-assets.js"  # the npm package's qaport-web-assets
BROWSER_RUNTIMES = ("onnx", "tfjs")  # client_formats keys a browser runs (savedmodel is Node.js only)
PAGES = {"demo.html": "index.html", "proof.html": "proof.html", "site.css": "site.css"}
MARKER = "site.json"  # every built site has it; an existing OUT without it is not replaced
TOP_K = 5  # the demo asks for the 5 best answers and highlights the first
MAX_LENGTH, STRIDE = 384, 128
CHECK_TIMEOUT = 600.0


class SiteError(QaportError):
    """The site cannot be built, served or checked."""

    exit_code = 2


class CheckFailed(QaportError):
    """The page ran but its answer is not Python's (or the page misbehaved)."""

    exit_code = 1


# -- what goes in ----------------------------------------------------------------------------------
def client_choices(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The (runtime, quantized) pairs a browser can load from this directory, with format and precision."""
    out = []
    for runtime in BROWSER_RUNTIMES:
        for quantized, fmt in sorted((manifest.get("client_formats") or {}).get(runtime, {}).items()):
            rec = manifest["formats"].get(fmt)
            if rec is None:
                continue
            out.append(
                {
                    "runtime": runtime,
                    "quantized": quantized == "true",
                    "format": fmt,
                    "precision": rec.get("precision") or ("float32" if quantized == "false" else "quantized"),
                }
            )
    return out


def model_files(manifest: dict[str, Any], choices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Manifest entries the browser client fetches: the shared files and the files of each browser format."""
    entries = list(manifest.get("files", []))
    for fmt in dict.fromkeys(c["format"] for c in choices):
        entries += manifest["formats"][fmt]["files"]
    return list({e["path"]: e for e in entries}.values())


def examples() -> list[dict[str, Any]]:
    """The demo's example texts: the Super Bowl paragraph, generated ones the default model reads well, a
    long one (several 384-token windows) and one with accents, non-Latin scripts and emoji."""
    from validate.inputs import fresh_examples, long_context_examples, super_bowl_example, unicode_examples

    picked = [
        ("Super Bowl 50 (real prose)", super_bowl_example()),
        ("A generated paragraph (the default model's own kind of text)", fresh_examples(1)[0]),
        ("A long text (several windows)", long_context_examples(chars=6000, questions=1)[0]),
        ("Unicode: accents, scripts, emoji", unicode_examples(1)[0]),
    ]
    return [
        {"id": ex.id, "title": title, "question": ex.question, "context": ex.context, "answers": list(ex.answers)}
        for title, ex in picked
    ]


def site_config(manifest: dict[str, Any], report: dict[str, Any], choices: list[dict[str, Any]]) -> dict[str, Any]:
    options = report.get("options") or {}
    source = manifest.get("source") or {}
    return {
        "schema_version": 1,
        "model": report.get("model") or source.get("name") or source.get("spec"),
        "architecture": (manifest.get("architecture") or {}).get("model_type"),
        "max_length": manifest.get("fixed_length") or MAX_LENGTH,
        "stride": STRIDE,
        "top_k": TOP_K,
        # validate records --handle-impossible-answer (or a SQuAD 2.0 examples file) in report.options
        "handle_impossible_answer": bool(options.get("handle_impossible_answer")),
        "report_passed": report.get("passed"),
        "choices": choices,
        "examples": examples(),
    }


# -- building --------------------------------------------------------------------------------------
def default_out(src: Path) -> Path:
    return src.parent / f"{src.name}-site"


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _load_inputs(src: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    if not src.is_dir():
        msg = (
            f"{src} is not a directory; pass a converted artifact directory (python -m convert, e.g. artifacts/default)"
        )
        raise SiteError(msg)
    try:
        manifest = load_manifest(src)
    except ManifestError as exc:
        msg = f"{src} is not a usable qaport artifact directory: {exc}"
        raise SiteError(msg) from exc
    try:  # the same reader (and the same refusals) as python -m publish
        report = load_report(src)
    except PublishRefused as exc:
        raise SiteError(str(exc)) from exc
    return manifest, report


def _web_assets(src: Path, dest: Path) -> None:
    """The model and the runtimes' wasm files, copied by the npm package's own ``qaport-web-assets``
    (js/client/web-assets.js): the site serves exactly what a web app using the package serves."""
    proc = subprocess.run(
        [_node(), str(WEB_ASSETS), str(dest), "--model-dir", str(src)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["no output"]
        msg = tail[0].removeprefix("ERROR: ")
        if "is not installed" in msg:
            msg += " (cd js && npm ci --ignore-scripts; nox -s demo does)"
        raise SiteError(f"copying the model and wasm files (js/client/web-assets.js): {msg}")


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        msg = "node is not on PATH; the site's pages are bundled by esbuild under Node.js 20 (install Node.js)"
        raise SiteError(msg)
    return node


def _bundle(out: Path) -> None:
    if not (NODE_MODULES / "esbuild").is_dir():
        msg = f"esbuild is not installed in {NODE_MODULES}; run: cd js && npm ci --ignore-scripts (nox -s demo does)"
        raise SiteError(msg)
    proc = subprocess.run(
        [_node(), str(WEB_DIR / "build.mjs"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["no output"]
        msg = f"bundling the pages failed (node js/web/build.mjs): {tail[0]}"
        raise SiteError(msg)


@contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A temporary directory beside ``out``, removed unless it was renamed into place."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build_site(src: Path, out: Path | None = None, progress: Any = None) -> Path:
    """Build the static site of ``src`` into ``out`` (whole or not at all) and return ``out``."""
    say = progress or (lambda _line: None)
    src = src.resolve() if src.exists() else src
    manifest, report = _load_inputs(src)
    out = (out or default_out(src)).resolve()
    if _inside(out, src):
        msg = f"--out {out} is inside {src}; the artifact directory must keep exactly its manifest's files"
        raise UsageError(msg)
    if _inside(src, out):
        msg = f"--out {out} contains {src}; pick a directory beside it (default: {default_out(src)})"
        raise UsageError(msg)
    if out.exists() and not (out / MARKER).is_file():
        msg = f"{out} exists and is not a site built by python -m publish.site; remove it or pick another --out"
        raise UsageError(msg)
    choices = client_choices(manifest)
    if not choices:
        msg = f"{src} has no format a browser runs (onnx, tfjs in manifest.json's client_formats); convert with them"
        raise SiteError(msg)
    with _staging(out) as tmp:
        entries = model_files(manifest, choices)
        say(f"model: {len(entries)} files of {', '.join(dict.fromkeys(c['format'] for c in choices))}")
        _web_assets(src, tmp)
        shutil.copyfile(src / "report.json", tmp / "report.json")
        for name, dest in PAGES.items():
            shutil.copyfile(WEB_DIR / name, tmp / dest)
        say("bundling the pages (esbuild)")
        _bundle(tmp)
        (tmp / MARKER).write_text(json.dumps(site_config(manifest, report, choices), indent=1, ensure_ascii=False))
        os.chmod(tmp, 0o755)
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    return out


# -- serving and checking --------------------------------------------------------------------------
def serve(out: Path) -> int:
    proc = subprocess.Popen([_node(), str(WEB_DIR / "serve.mjs"), str(out)])

    def stop(_signum: int, _frame: object) -> None:  # a SIGTERM to us stops the server too
        proc.terminate()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(timeout=10)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def python_answer(src: Path, manifest: dict[str, Any], question: str, context: str, null: bool) -> dict[str, Any]:
    """Python's answer on the ONNX float32 model (onnxruntime), decoded as the demo asks (top 5, first)."""
    from qaport import decode
    from validate.runners.ort_runner import OnnxRuntimeRunner

    if "onnx" not in manifest["formats"]:
        msg = (
            f"--check compares with Python's answer on the ONNX model, and {src} has none; convert with --formats onnx"
        )
        raise SiteError(msg)
    with OnnxRuntimeRunner("onnx", src, manifest["formats"]["onnx"], src / "tokenizer.json") as runner:
        best = decode.answers(
            runner.infer,
            runner.tokenizer,
            question,
            context,
            top_k=TOP_K,
            handle_impossible_answer=null,
            token_types=runner.uses_token_types,
        )[0]
    return {"text": best.text, "score": best.score, "start": best.start, "end": best.end}


def check(src: Path, out: Path) -> int:
    """Answer the Super Bowl question in the demo in headless Chromium; 0 only if it equals Python's."""
    from validate.browser import browser_unavailable, find_chromium
    from validate.inputs import super_bowl_example

    chromium = find_chromium()
    if chromium is None:
        raise SiteError(f"--check needs Chromium: {browser_unavailable()}")
    manifest = load_manifest(src)
    config = json.loads((out / MARKER).read_text(encoding="utf-8"))
    ex = super_bowl_example()
    expected = python_answer(src, manifest, ex.question, ex.context, bool(config["handle_impossible_answer"]))
    long_question = " ".join(["which"] + ["team"] * 899) + "?"
    job = {"example": ex.id, "question": ex.question, "long_question": long_question}
    with tempfile.TemporaryDirectory(prefix="qaport-site-check-") as tmp:
        job_path = Path(tmp) / "job.json"
        job_path.write_text(json.dumps(job))
        try:
            proc = subprocess.run(
                [
                    _node(),
                    str(WEB_DIR / "check.mjs"),
                    "--site",
                    str(out),
                    "--browser",
                    str(chromium),
                    "--job",
                    str(job_path),
                ],
                capture_output=True,
                text=True,
                timeout=CHECK_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise CheckFailed(f"the headless check did not finish within {CHECK_TIMEOUT:.0f} s") from exc
    if proc.returncode != 0 or not proc.stdout.strip():
        tail = " | ".join(proc.stderr.strip().splitlines()[-4:]) or "no output"
        raise CheckFailed(f"the headless check failed (node js/web/check.mjs, exit {proc.returncode}): {tail}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["python"] = expected
    (out / "screenshots" / "check.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    got = result["answer"]
    print(f"question: {ex.question}")
    ran = f"{result['info'].get('runtime')} ({result['info'].get('backend')})"
    print(f"page answer:   {got['text']!r} (score {got['score']}) on {ran}")
    print(f"python answer: {expected['text']!r} (score {expected['score']:.4f}, onnxruntime, onnx float32)")
    for shot in result["screenshots"]:
        print(f"screenshot: {shot}")
    print(f"check: {out / 'screenshots' / 'check.json'}")
    problems = []
    if got["text"] != expected["text"] or result["keyboard_answer"] != expected["text"]:
        problems.append(
            f"the page answered {got['text']!r} (keyboard: {result['keyboard_answer']!r}), Python {expected['text']!r}"
        )
    if result["narrow"]["scroll_width"] > result["narrow"]["inner_width"]:
        problems.append(f"the page scrolls sideways at {result['narrow']['inner_width']} px")
    if not result["decode_error"]["message"]:
        problems.append("a question too long for the window showed no message")
    if problems:
        raise CheckFailed("; ".join(problems))
    return 0


# -- CLI --------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m publish.site", description=__doc__.split("\n\n")[0])
    p.add_argument("dir", type=Path, help="artifact directory, converted and validated (has report.json)")
    p.add_argument("--out", type=Path, help="where the site goes (default: DIR-site beside DIR)")
    p.add_argument("--serve", action="store_true", help="serve the site on 127.0.0.1 and print its URL (Ctrl-C stops)")
    p.add_argument(
        "--check",
        action="store_true",
        help="answer the Super Bowl question in headless Chromium, compare with Python, save screenshots",
    )
    return p


@entry_point("publish.site", interrupted="interrupted; the site directory was left as it was")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = build_site(args.dir, args.out, progress=lambda s: print(s, flush=True))
    print(f"site: {out}")
    code = 0
    if args.check:
        code = check(args.dir.resolve(), out)
    if args.serve:
        sys.stdout.flush()
        code = serve(out) or code
    return code


if __name__ == "__main__":
    sys.exit(main())
