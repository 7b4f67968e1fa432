"""``python -m validate.soak``: many questions through each Node.js runtime.

Set QAPORT_RELIABILITY_DIR to an already converted default-model directory to skip the conversion.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import (
    error_lines,
    needs_node,
    run_cli,
)


# =======================================================================================================
# 8. Under load: many questions through each Node.js runtime (python -m validate.soak).
# =======================================================================================================
@pytest.mark.node
@needs_node
def test_soak_memory_flat_and_answers_match(artifacts: Path, tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    proc = run_cli("validate.soak", str(artifacts), "--questions", "150", "--json", str(out), timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    print(proc.stdout)
    assert "RSS first" in proc.stdout and "tensors start/min/max" in proc.stdout
    report = json.loads(out.read_text())
    assert [r["format"] for r in report["results"]] == ["tfjs", "onnx"]
    for r in report["results"]:
        assert r["questions"] == 150 and r["passed"], r
        assert r["answers"]["disagree"] == 0, r
        assert r["rss_growth"] < 0.05, r
    tfjs = report["results"][0]
    assert tfjs["tensors_start"] > 0 and tfjs["tensors_min"] == tfjs["tensors_max"] == tfjs["tensors_start"]


def test_soak_command_refuses_bad_arguments(artifacts: Path, tmp_path: Path) -> None:
    for name in ("validate.soak", "validate.load"):  # the former name keeps working
        proc = run_cli(name, str(tmp_path / "nothing"), "--questions", "10", timeout=120)
        assert proc.returncode == 2, name
        (line,) = error_lines(proc.stderr)
        assert "does not exist; convert first" in line, name
    proc = run_cli("validate.soak", str(artifacts), "--formats", "tfjs,savedmodel", timeout=120)
    assert proc.returncode == 2
    (line,) = error_lines(proc.stderr)
    assert "--formats savedmodel: not a Node.js format" in line
