"""Missing files and unsafe manifest paths before packaging, and tampered model directories in the
installed npm client.

Set QAPORT_RELIABILITY_DIR to an already converted default-model directory to skip the conversion.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    error_lines,
    needs_node,
    run_cli,
    run_node,
)


@pytest.mark.parametrize(
    ("how", "pattern"),
    [
        ("missing", r"onnx/model\.onnx is listed in the manifest but missing; refusing to publish"),
        ("dotdot", r"manifest names '\.\./outside\.bin', which is outside .*; refusing"),
        ("absolute", r"manifest names an absolute or empty path '/etc/hostname'; refusing"),
    ],
)
def test_packaging_refuses_missing_files_and_unsafe_paths(tmp_path: Path, how: str, pattern: str) -> None:
    from tests.publish.test_publish import fake_dir

    root = fake_dir(tmp_path / "art")
    (tmp_path / "outside.bin").write_bytes(b"x")
    if how == "missing":
        (root / "onnx" / "model.onnx").unlink()
    else:
        doc = json.loads((root / "manifest.json").read_text())
        bad = "../outside.bin" if how == "dotdot" else "/etc/hostname"
        doc["formats"]["onnx"]["files"].append({"path": bad, "size": 1, "sha256": "0" * 64})
        (root / "manifest.json").write_text(json.dumps(doc))
    proc = run_cli("publish", str(root), timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = error_lines(proc.stderr)
    print(f"\n{how}: {line}")
    assert re.search(pattern, line), line
    assert not (root / "npm").exists()


CLIENT_LOAD_SCRIPT = r"""
import fs from 'node:fs';
import { QAClient } from './client/index.js';

const out = [];
for (const [runtime, quantized, modelDir] of JSON.parse(fs.readFileSync(0, 'utf8'))) {
  try {
    const qa = await QAClient.fromOptions({ runtime, quantized, modelDir });
    out.push({ ok: true, text: (await qa.predict('Who won?', 'The Denver Broncos won.')).text });
    await qa.dispose();
  } catch (err) {
    out.push({ ok: false, name: err.name, message: err.message });
  }
}
console.log(JSON.stringify(out));
"""


@pytest.mark.node
@needs_node
def test_node_client_refuses_tampered_model_dirs(package: Path, tmp_path: Path) -> None:
    """Cases test_publish does not try: absolute path, missing file, unlisted shard, truncated file."""
    model = package / "model"

    def tampered(label: str) -> Path:
        d = tmp_path / label
        shutil.copytree(model, d)
        return d

    def edit_manifest(d: Path, fn: Any) -> None:
        doc = json.loads((d / "manifest.json").read_text())
        fn(doc)
        (d / "manifest.json").write_text(json.dumps(doc))

    absolute = tampered("absolute")
    edit_manifest(
        absolute, lambda doc: doc["formats"]["onnx"]["files"][0].update(path=str(absolute / "onnx/model.onnx"))
    )
    edit_manifest(absolute, lambda doc: doc["formats"]["onnx"].update(main_file=str(absolute / "onnx/model.onnx")))
    missing = tampered("missing")
    shard = sorted((missing / "tfjs").glob("*.bin"))[0]
    shard.unlink()
    truncated = tampered("truncated")
    data = (truncated / "onnx/model_quantized.onnx").read_bytes()
    (truncated / "onnx/model_quantized.onnx").write_bytes(data[:-1])
    unlisted = tampered("unlisted")  # model.json points at a shard the manifest does not list
    doc = json.loads((unlisted / "tfjs-fp16/model.json").read_text())
    doc["weightsManifest"][0]["paths"] = ["extra-shard.bin"]
    (unlisted / "tfjs-fp16/model.json").write_text(json.dumps(doc))
    shutil.copyfile(sorted((model / "tfjs-fp16").glob("*.bin"))[0], unlisted / "tfjs-fp16/extra-shard.bin")
    new = (unlisted / "tfjs-fp16/model.json").read_bytes()

    def relist(doc: dict[str, Any]) -> None:
        for e in doc["formats"]["tfjs-fp16"]["files"]:
            if e["path"] == "tfjs-fp16/model.json":
                e.update(size=len(new), sha256=hashlib.sha256(new).hexdigest())

    edit_manifest(unlisted, relist)
    cases = [
        ("onnx", False, absolute, r"manifest names the path \"/.*\"; only relative paths are allowed"),
        (
            "tfjs",
            False,
            missing,
            rf"tfjs/{re.escape(shard.name)} is listed in the manifest but cannot be read \(ENOENT\)",
        ),
        ("onnx", True, truncated, r"onnx/model_quantized\.onnx does not match its manifest checksum \(size \d+"),
        ("tfjs", True, unlisted, r"tfjs-fp16/extra-shard\.bin is not listed in .*refusing to load an unverified file"),
        ("onnx", False, model, None),
    ]
    results = run_node(CLIENT_LOAD_SCRIPT, [[r, q, str(d)] for r, q, d, _ in cases], package)
    for (runtime, quantized, _, pattern), res in zip(cases, results, strict=True):
        if pattern is None:
            assert res["ok"] and res["text"], res  # the untouched directory loads and answers
            continue
        print(f"\nclient {runtime} quantized={quantized}: {res['name']}: {res['message']}")
        assert not res["ok"] and res["name"] == "IntegrityError", (runtime, quantized, res)
        assert re.search(pattern, res["message"]), res["message"]
