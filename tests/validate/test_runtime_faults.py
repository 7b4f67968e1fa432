"""A Node.js runtime that crashes or hangs mid-validation fails only its own targets.

Set QAPORT_RELIABILITY_DIR to an already converted default-model directory to skip the conversion.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.conftest import (
    copy_artifacts,
    needs_node,
    run_cli,
)


# =======================================================================================================
# 5. A Node.js runtime that crashes or hangs mid-validation. Covered (test_node_bridge): the bridge
#    detects a hang (timeout, kill) and a crash, with the stderr tail. Added: during a real validation
#    run, that format fails with the tail in its reason and the other formats still run and pass.
# =======================================================================================================
@pytest.mark.tf
@pytest.mark.node
@needs_node
def test_node_crash_and_hang_fail_only_their_format(artifacts: Path, tmp_path: Path) -> None:
    root = copy_artifacts(artifacts, tmp_path / "v")
    fault = "crash:3:onnx/model.onnx,hang:3:tfjs/model.json"  # the 3rd request of those two runtimes
    started = time.monotonic()
    proc = run_cli(
        "validate",
        str(root),
        *("--only", "onnxruntime-node", "--only", "tfjs-wasm", "--limit", "3", "--node-timeout", "15"),
        *("--warmup", "0", "--runs-short", "1", "--runs-long", "1"),
        env={"QAPORT_NODE_FAULT": fault},
        timeout=900,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    targets = {t["id"]: t for t in json.loads((root / "report.json").read_text())["targets"]}
    crash, hang = targets["onnx@onnxruntime-node"], targets["tfjs@tfjs-wasm"]
    print(f"\ncrash: {crash['reason']}\nhang: {hang['reason']}\n({elapsed:.0f} s in all)")
    assert crash["status"] == "failed"
    assert re.search(r"node exited with code -11 before replying; node stderr tail: .*fault injected", crash["reason"])
    assert hang["status"] == "failed"
    assert re.search(r"no reply within 15 s; node killed; node stderr tail: .*hang on request 3", hang["reason"])
    assert targets["onnx-int8@onnxruntime-node"]["status"] == "passed"
    assert targets["tfjs-fp16@tfjs-wasm"]["status"] == "passed"
    assert elapsed < 600  # the hang cost its 15 s timeout, not the hour it would have blocked
