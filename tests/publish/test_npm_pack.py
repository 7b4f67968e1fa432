"""What is published: ``npm pack``'s list equals the manifest, install scripts are refused, the real
model is packaged end to end through those checks.

Set QAPORT_RELIABILITY_DIR to an already converted default-model directory to skip the conversion.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from publish.contents import SHIPPED_JS
from tests.conftest import (
    copy_artifacts,
    needs_npm,
    passed_report,
    run_cli,
    stage,
)


# =======================================================================================================
# 7. What is published. Covered (test_publish): the client refuses flipped bytes and ../ paths; the fake
#    package has no "scripts". Added: npm pack --dry-run's list == the manifest (and refusals when not),
#    install scripts refused, the real model packaged end to end through those checks.
# =======================================================================================================
@pytest.fixture
def bare_package(artifacts: Path, tmp_path: Path) -> Path:
    return stage(artifacts, tmp_path / "package", link_modules=False)


@needs_npm
def test_npm_pack_list_equals_the_manifest(bare_package: Path) -> None:
    from publish.npm_package import check_pack_list, expected_files

    listed = check_pack_list(bare_package)
    assert listed == sorted(expected_files(bare_package))
    pkg = json.loads((bare_package / "package.json").read_text())
    assert "scripts" not in pkg and not (bare_package / "binding.gyp").exists()


@needs_npm
@pytest.mark.parametrize(
    ("how", "pattern"),
    [
        ("extra", r"npm pack would ship model/onnx/extra\.onnx, which the manifest does not list"),
        ("npmignore", r"npm pack would leave out model/vocab\.txt, which the manifest lists"),
        ("gyp", r"npm pack would ship binding\.gyp"),
        ("postinstall", r"the package declares install scripts \(postinstall\)"),
    ],
)
def test_npm_pack_list_mismatch_or_install_script_is_refused(bare_package: Path, how: str, pattern: str) -> None:
    from publish.checks import NpmError
    from publish.npm_package import check_pack_list

    if how == "extra":
        (bare_package / "model/onnx/extra.onnx").write_bytes(b"\0")
    elif how == "npmignore":
        (bare_package / "model/.npmignore").write_text("vocab.txt\n")
    elif how == "gyp":  # npm would run `node-gyp rebuild` at install for this file alone
        (bare_package / "binding.gyp").write_text("{}")
        pkg = json.loads((bare_package / "package.json").read_text())
        pkg["files"].append("binding.gyp")
        (bare_package / "package.json").write_text(json.dumps(pkg))
    else:
        pkg = json.loads((bare_package / "package.json").read_text())
        pkg["scripts"] = {"postinstall": "node -e \"require('fs').writeFileSync('/tmp/pwned', '')\""}
        (bare_package / "package.json").write_text(json.dumps(pkg))
    with pytest.raises(NpmError, match=pattern):
        check_pack_list(bare_package)


@pytest.mark.node
@needs_npm
def test_publish_packs_exactly_the_manifest(artifacts: Path, tmp_path: Path) -> None:
    import tarfile

    root = copy_artifacts(artifacts, tmp_path / "ok")
    passed_report(root)
    proc = run_cli("publish", str(root), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every graph op is allowed" in proc.stdout
    doc = json.loads((root / "manifest.json").read_text())
    with tarfile.open(root / doc["npm"]["tarball"]) as tar:
        names = sorted(n.removeprefix("package/") for n in tar.getnames())
        packaged = json.load(tar.extractfile("package/model/manifest.json"))  # type: ignore[arg-type]
        pkg = json.load(tar.extractfile("package/package.json"))  # type: ignore[arg-type]
    entries = [*packaged["files"], *(e for f in packaged["formats"].values() for e in f["files"])]
    code = ["README.md", *SHIPPED_JS, "package.json", "model/manifest.json"]
    assert names == sorted([*code, *(f"model/{e['path']}" for e in entries)])
    assert "scripts" not in pkg
