"""Build the npm package of a validated artifact directory: ``DIR/npm/<name>-<version>.tgz``.

Only a directory whose report passed and whose files still match their manifest checksums is
packaged (publish.checks). The package holds the formats asked for (``--formats``; default every
shippable one: TF.js float32 and float16, ONNX float32 and int8, the SavedModel for tfjs-node), the
tokenizer files, a trimmed manifest (checked by the JS client before every load), the JS library of
qaport's ``js/`` folder at the same paths, byte for byte: ``client/`` (QAClient: a Node.js entry and a
browser entry, chosen by the ``exports`` conditions), ``core/`` (tokenizer, windowing/decoding, model contract),
``node/runtimes.mjs`` and ``browser/runtimes.mjs`` (model loading): the code the validation ran is the code
that ships (publish.contents).

The tarball is listed in DIR/manifest.json like every other file (``files``, so ``verify_files`` and
validation keep accepting the directory) and described under the top-level ``npm`` key (name,
version, npm's sha512 integrity, size, contents). Rebuilding replaces both.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from publish.checks import (
    NPM_DIR,
    REPORT_FILES,
    NpmError,
    PublishRefused,
    check_checksums,
    check_name_version,
    check_report,
    dist_tag,
    is_npm,
    load_report,
    shipped_formats,
)
from publish.contents import MODEL_DIR, SHIPPED_JS, client_formats, node_dependencies, stage_package
from publish.graph_ops import GraphOpError, check_graph_ops
from qaport.errors import UsageError
from qaport.manifest import ManifestError, load_manifest, sha256_file, verify_files, write_json_atomic

DEFAULT_NAME = "qaport-distilbert-qa"
DEFAULT_VERSION = "0.1.0"

Progress = Callable[[str], None]


def npm_env() -> dict[str, str]:
    return {
        **os.environ,
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
        "npm_config_loglevel": "warn",
    }


def run_npm(args: list[str], cwd: Path, what: str) -> subprocess.CompletedProcess[str]:
    npm = shutil.which("npm")
    if npm is None:
        msg = f"npm is not on PATH; install Node.js 20 (with npm) to {what}"
        raise NpmError(msg)
    proc = subprocess.run([npm, *args], cwd=cwd, env=npm_env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = " | ".join(ln.strip() for ln in (proc.stderr or proc.stdout).splitlines()[-5:] if ln.strip())
        msg = f"npm {' '.join(args)} exited {proc.returncode} while trying to {what}: {tail[:800]}"
        raise NpmError(msg)
    return proc


def sha512_integrity(path: Path) -> str:
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha512")
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "prepare", "preprepare", "postprepare")


def expected_files(package_dir: Path) -> dict[str, int | None]:
    """What the package must hold, from its own model/manifest.json: path -> size (None: not in it)."""
    trimmed = json.loads((package_dir / MODEL_DIR / "manifest.json").read_text(encoding="utf-8"))
    entries = [*trimmed["files"], *(e for f in trimmed["formats"].values() for e in f["files"])]
    files: dict[str, int | None] = {f"{MODEL_DIR}/{e['path']}": int(e["size"]) for e in entries}
    for rel in ("package.json", "README.md", *SHIPPED_JS, f"{MODEL_DIR}/manifest.json"):
        files[rel] = None
    return files


def check_pack_list(package_dir: Path) -> list[str]:
    """``npm pack --dry-run``'s file list must equal the manifest's, and the package run no install script."""
    pkg = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
    scripts = [s for s in (pkg.get("scripts") or {}) if s in INSTALL_SCRIPTS]
    if scripts:
        msg = f"the package declares install scripts ({', '.join(scripts)}); qaport packages must have none"
        raise NpmError(msg)
    proc = run_npm(["pack", "--dry-run", "--json", "--ignore-scripts"], package_dir, "list the package's files")
    try:
        listed = {f["path"]: int(f["size"]) for f in json.loads(proc.stdout)[0]["files"]}
    except (json.JSONDecodeError, IndexError, KeyError, TypeError) as exc:
        msg = f"npm pack --dry-run printed no JSON file list: {proc.stdout[-300:]!r}"
        raise NpmError(msg) from exc
    expected = expected_files(package_dir)
    problems = [f"npm pack would ship {p}, which the manifest does not list" for p in sorted(listed.keys() - expected)]
    problems += [f"npm pack would leave out {p}, which the manifest lists" for p in sorted(expected.keys() - listed)]
    problems += [
        f"npm pack would ship {p} with {listed[p]} bytes, the manifest says {size}"
        for p, size in sorted(expected.items())
        if size is not None and p in listed and listed[p] != size
    ]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        msg = f"{problems[0]}{more}; refusing to pack: the package's files must be exactly its manifest's"
        raise NpmError(msg)
    return sorted(listed)


def npm_pack(package_dir: Path, dest: Path) -> dict[str, Any]:
    proc = run_npm(
        ["pack", "--json", "--ignore-scripts", "--pack-destination", str(dest)], package_dir, "pack the package"
    )
    try:
        info = json.loads(proc.stdout)[0]
    except (json.JSONDecodeError, IndexError, KeyError) as exc:
        msg = f"npm pack printed no JSON description of the tarball: {proc.stdout[-300:]!r}"
        raise NpmError(msg) from exc
    tarball = dest / info["filename"]
    if not tarball.is_file():
        msg = f"npm pack reported {info['filename']} but {tarball} does not exist"
        raise NpmError(msg)
    ours = sha512_integrity(tarball)
    if info.get("integrity") != ours:
        msg = f"npm pack reported integrity {info.get('integrity')} but the tarball hashes to {ours}"
        raise NpmError(msg)
    return info


def build_package(
    root: Path,
    name: str = DEFAULT_NAME,
    version: str = DEFAULT_VERSION,
    *,
    dry_run_publish: bool = False,
    formats: list[str] | None = None,
    progress: Progress = print,
) -> dict[str, Any]:
    """Check, stage, pack, record (``formats``: what to ship; default every shippable format there).
    Returns the manifest's new ``npm`` entry."""
    check_name_version(name, version)
    if not root.is_dir():
        msg = f"artifact directory {root} does not exist; convert and validate first"
        raise UsageError(msg)
    manifest = load_manifest(root)
    report = load_report(root)
    shipped = shipped_formats(manifest, formats)
    check_report(root, manifest, report, shipped)
    check_checksums(root, manifest)
    if shutil.which("npm") is None:  # before the slower checks: nothing can be packed without it
        msg = "npm is not on PATH; install Node.js 20 (with npm) to pack the package"
        raise NpmError(msg)
    try:
        check_graph_ops(root, manifest)
    except GraphOpError as exc:
        raise PublishRefused(str(exc)) from exc
    progress(f"{root}: validated (report passed), every file matches manifest.json, every graph op is allowed")

    staging = Path(tempfile.mkdtemp(prefix=f".{root.resolve().name}.npm-", dir=root.resolve().parent))
    try:
        package_dir = stage_package(root, manifest, report, staging / "package", name, version, shipped)
        check_pack_list(package_dir)
        out = staging / NPM_DIR
        out.mkdir()
        progress(f"packing {name}@{version} ...")
        info = npm_pack(package_dir, out)
        tarball = out / info["filename"]
        if dry_run_publish:
            args = ["publish", "--dry-run", "--ignore-scripts", "--tag", dist_tag(version), "--loglevel", "notice"]
            progress(f"npm {' '.join(args)} {tarball.name} ...")
            proc = run_npm([*args, str(tarball)], staging, "dry-run publish")
            progress((proc.stdout + proc.stderr).strip()[-2000:])
        rel = f"{NPM_DIR}/{info['filename']}"
        entry = {
            "name": name,
            "version": version,
            "tarball": rel,
            "dist_tag": dist_tag(version),
            "size": tarball.stat().st_size,
            "integrity": info["integrity"],
            "shasum": info.get("shasum"),
            "sha256": sha256_file(tarball),
            "unpacked_size": info.get("unpackedSize"),
            "entry_count": info.get("entryCount"),
            "dependencies": node_dependencies(),
            "formats": shipped,
            "client_formats": client_formats(shipped),
            "contents": [{"path": f["path"], "size": f["size"]} for f in info.get("files", [])],
        }
        # Swap DIR/npm in, then record it: a crash in between leaves npm/ unlisted, which the next
        # build replaces (npm/ is excluded from the pre-build check) and validation reports.
        final = root / NPM_DIR
        old = staging / "old-npm"
        if final.exists():
            os.replace(final, old)
        os.replace(out, final)
        manifest["files"] = [
            *(e for e in manifest.get("files", []) if not is_npm(e["path"])),
            {"path": rel, "size": entry["size"], "sha256": entry["sha256"]},
        ]
        manifest["npm"] = entry
        write_json_atomic(root / "manifest.json", manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    try:
        verify_files(root, manifest, allow_extra=REPORT_FILES)
    except ManifestError as exc:
        msg = f"after packaging, {exc}"
        raise NpmError(msg) from exc
    progress(f"wrote {root / entry['tarball']} ({entry['size'] / 1e6:.1f} MB, {entry['integrity'][:30]}...)")
    return entry
