"""The browser runner (js/browser/runner.mjs): a web runtime in headless Chromium, driven like a Node.js one.

What a browser target must do beyond answering (the answers themselves are proven by the validation tests,
tests/convert/test_architectures.py and the property tests): refuse and report any request to another host,
serve the page cross-origin isolated, fail only its own target with the page console's tail when the page
crashes or hangs (and take its Chromium down with it), and, where no browser can be had, be reported as
not run with the command that adds one.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import needs_node, run_cli
from validate.browser import BROWSER_ENV, browser_unavailable
from validate.node_bridge import NODE_DIR, NodeRequestError, NodeRuntime, NodeRuntimeError

pytestmark = [pytest.mark.node, needs_node]

if browser_unavailable():  # fail, do not skip: a browser target that cannot run is a missing feature
    pytest.fail(f"browser tests need Chromium: {browser_unavailable()}", pytrace=False)


def _runtime(artifacts: Path, fmt: str = "onnx", backend: str = "wasm", **kwargs: Any) -> NodeRuntime:
    manifest = json.loads((artifacts / "manifest.json").read_text())
    rec = manifest["formats"][fmt]
    kind = "onnx" if fmt.startswith("onnx") else "tfjs"
    return NodeRuntime(
        kind,
        artifacts / rec["main_file"],
        backend=backend,
        tokenizer=artifacts / "tokenizer.json",
        output_map=rec["output_names"],
        host="browser",
        input_dtypes={k: v["dtype"] for k, v in rec["signature"]["inputs"].items()},
        manifest=artifacts / "manifest.json",
        **kwargs,
    )


def _group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is left in process group ``pgid`` (Linux /proc)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            return True
    return False


@pytest.mark.tf
def test_page_is_cross_origin_isolated_and_answers(artifacts: Path) -> None:
    with _runtime(artifacts) as rt:
        ready = rt.ready
        assert ready["host"] == "browser" and ready["runtime_id"] == "onnxruntime-web"
        assert ready["cross_origin_isolated"] is True  # COOP/COEP: wasm gets its threads
        assert ready["threads"] >= 1 and ready["versions"]["chromium"]
        assert ready["files_verified"] >= 1  # the page checked the model against the manifest with WebCrypto
        ids = np.array([[2, 100, 101, 3, 200, 201, 202, 3]], dtype=np.int32)
        start, end, times = rt.infer(ids, np.ones_like(ids))
        assert start.shape == end.shape == (1, 8) and np.isfinite(start).all() and len(times) == 1
        answer, fed = rt.answer_with_logits("Who won Super Bowl 50?", "The Denver Broncos won Super Bowl 50.")
        assert answer["text"] and fed["start_logits"].shape == fed["input_ids"].shape
        stats = rt.stats()
        assert stats["peak_rss_bytes"] > 0 and stats["blocked_requests"] == 0


@pytest.mark.tf
def test_a_request_to_another_host_is_refused_and_fails_the_target(artifacts: Path) -> None:
    with _runtime(artifacts) as rt:
        reply = rt.request("_fetch", url="http://example.com/model.onnx")
        assert "fetch_error" in reply  # the request never left the machine
        with pytest.raises(
            NodeRequestError, match=r"requested another host \(refused\): http://example.com/model.onnx"
        ):
            rt.stats()
        logged = "refused a request to another host: http://example.com/model.onnx"
        deadline = time.monotonic() + 10  # the runner's stderr is read by a thread: give the line time to arrive
        while not any(logged in ln for ln in rt.stderr_tail()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any(logged in ln for ln in rt.stderr_tail()), rt.stderr_tail()


@pytest.mark.tf
def test_a_crashed_page_ends_the_runner_with_the_console_tail(artifacts: Path) -> None:
    rt = _runtime(artifacts, timeout=60)
    rt.start()
    pgid = int(rt.ready["pid"])
    with pytest.raises(NodeRuntimeError) as info:
        rt.request("_crash")
    text = str(info.value)
    assert "exited with code 1" in text and "the page crashed" in text, text
    time.sleep(1)
    assert not _group_alive(pgid), "Chromium outlived its runner"


@pytest.mark.tf
def test_a_hung_page_is_killed_with_its_browser(artifacts: Path) -> None:
    rt = _runtime(artifacts, timeout=5)
    rt.start()
    pgid = int(rt.ready["pid"])
    t0 = time.monotonic()
    with pytest.raises(NodeRuntimeError, match="no reply within 5 s"):
        rt.request("_hang")
    assert time.monotonic() - t0 < 30
    time.sleep(1)
    assert not _group_alive(pgid), "Chromium outlived its killed runner"


@pytest.mark.tf
@pytest.mark.slow
def test_a_page_crash_mid_validation_fails_only_its_target(artifacts: Path, tmp_path: Path) -> None:
    from tests.conftest import copy_artifacts

    root = copy_artifacts(artifacts, tmp_path / "a")
    env = {"QAPORT_NODE_FAULT": "crash:3:model_quantized.onnx"}
    proc = run_cli(
        "validate", str(root), "--only", "onnxruntime-web", "--limit", "4", "--warmup", "0", "--runs-short", "1",
        "--runs-long", "1", env=env, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-3000:]
    report = json.loads((root / "report.json").read_text())
    status = {t["id"]: t for t in report["targets"] if not t.get("excluded")}
    assert status["onnx@onnxruntime-web"]["status"] == "passed", status["onnx@onnxruntime-web"].get("reason")
    crashed = status["onnx-int8@onnxruntime-web"]
    assert crashed["status"] == "failed"
    assert "the page crashed" in crashed["reason"] and "stderr tail" in crashed["reason"], crashed["reason"]


@pytest.mark.tf
def test_no_browser_is_not_run_with_the_command_that_adds_one(artifacts: Path, tmp_path: Path) -> None:
    from tests.conftest import copy_artifacts

    root = copy_artifacts(artifacts, tmp_path / "b")
    env = {BROWSER_ENV: str(tmp_path / "no-chromium")}
    proc = run_cli("validate", str(root), "--only", "browser", "--limit", "1", env=env, timeout=600)
    assert proc.returncode == 1  # never a silent pass
    report = json.loads((root / "report.json").read_text())
    ran = [t for t in report["targets"] if not t.get("excluded")]
    assert ran and {t["status"] for t in ran} == {"not_run"}
    assert all(BROWSER_ENV in t["reason"] and "chromium" in t["reason"] for t in ran), ran[0]["reason"]
    assert "not_run" in (root / "report.md").read_text() or "not validated" in (root / "report.md").read_text()


def test_server_isolates_the_page_and_keeps_paths_inside_their_mount(tmp_path: Path) -> None:
    (tmp_path / "pub").mkdir()
    (tmp_path / "pub" / "a.wasm").write_bytes(b"\0asm")
    (tmp_path / "secret.txt").write_text("no")
    (tmp_path / "pub" / "link.txt").symlink_to(tmp_path / "secret.txt")
    script = """
import { serve } from './browser/server.mjs';
const s = await serve({ '/x/': process.argv[1] });
const get = async (p) => { const r = await fetch(s.url + p); return [r.status, r.headers.get('content-type'),
  r.headers.get('cross-origin-opener-policy'), r.headers.get('cross-origin-embedder-policy')]; };
const out = { ok: await get('x/a.wasm'), up: await get('x/../secret.txt'), enc: await get('x/%2e%2e/secret.txt'),
  link: await get('x/link.txt'), host: s.url };
await s.close();
console.log(JSON.stringify(out));
"""
    proc = subprocess.run(
        ["node", "--input-type=module", "-e", script, str(tmp_path / "pub")],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] == [200, "application/wasm", "same-origin", "require-corp"]
    assert out["up"][0] == out["enc"][0] == out["link"][0] == 404
    assert out["host"].startswith("http://127.0.0.1:")


@pytest.mark.tf
def test_the_page_refuses_a_model_file_that_differs_from_the_manifest(artifacts: Path, tmp_path: Path) -> None:
    """The browser host checks each fetched file's sha256 with WebCrypto, as a web app's page would."""
    from tests.conftest import copy_artifacts

    root = copy_artifacts(artifacts, tmp_path / "t")
    model = root / "onnx" / "model.onnx"
    model.write_bytes(model.read_bytes() + b"\0")
    rt = _runtime(root, timeout=60)
    with pytest.raises(NodeRuntimeError, match=r"IntegrityError: model.onnx does not match its manifest checksum"):
        rt.start()
