"""Where the time of a Node.js system's answer goes (``node_phases.mjs``), for the systems whose
targets ask why: the TF-family paths on tfjs-node (graph model and SavedModel) and the fastest ONNX one.

Per phase medians (tokenising, tensor creation, the model call, copies back to JS, tensor release,
decoding), the fixed cost of one call (8 tokens: almost no FLOPs, so it is what dispatching the graph
costs), and a long text's windows as ``qa.callPlan`` runs them vs one batched call: the measurement
behind the windows-per-call rule, per runtime.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from bench.systems import NODE_DIR, SYSTEMS
from qaport.javascript import JS_DIR

SCRIPT = JS_DIR / "bench" / "node_phases.mjs"
SYSTEM_IDS = ("tfjs-node", "savedmodel-node", "onnx-int8-node")
MARKER = "PHASES "


def measure(job: dict[str, Any]) -> dict[str, Any]:
    from qaport.manifest import load_manifest
    from validate.validation import NODE_KIND

    node = shutil.which("node")
    root = Path(job["dir"]).resolve()  # node runs in NODE_DIR
    manifest = load_manifest(root)
    out: dict[str, Any] = {}
    payload = json.dumps({"short": job["short"], "long": job["long"], "runs": int(job["runs"])})
    for sid in job["systems"]:
        system = SYSTEMS[sid]
        assert system.format is not None and node is not None
        record = manifest["formats"][system.format]
        cmd = [node, str(SCRIPT), "--format", NODE_KIND[system.format], "--model", str(root / record["main_file"])]
        cmd += ["--tokenizer", str(root / "tokenizer.json"), "--backend", "tensorflow"]
        names = record.get("output_names") or {}
        if names:
            cmd += ["--output-map", ",".join(f"{k}={v}" for k, v in sorted(names.items()))]
        proc = subprocess.run(
            cmd,
            input=payload,
            capture_output=True,
            text=True,
            timeout=float(job.get("timeout", 900)),
            cwd=NODE_DIR,
            check=False,
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)]
        if not lines:
            tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
            out[sid] = {"error": f"node exited with code {proc.returncode} and no result; stderr: {tail}"}
            continue
        out[sid] = json.loads(lines[-1][len(MARKER) :])
    return {"systems": out}
