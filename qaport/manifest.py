"""manifest.json: what was made, from what, with which tools, and how to read each format's outputs."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from qaport.errors import QaportError

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
TOOLS = (
    "tensorflow",
    "tf-keras",
    "tensorflowjs",
    "tf2onnx",
    "onnx",
    "onnxruntime",
    "transformers",
    "tokenizers",
    "numpy",
)


class ManifestError(QaportError, ValueError):
    """A manifest that is missing, malformed, unsafe, or disagrees with the files beside it."""

    exit_code = 2


def tool_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TOOLS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def file_entries(root: Path, paths: list[Path]) -> list[dict[str, Any]]:
    return [
        {"path": p.relative_to(root).as_posix(), "size": p.stat().st_size, "sha256": sha256_file(p)}
        for p in sorted(paths)
    ]


def write_json_atomic(path: Path, doc: Any) -> None:
    """Temp file in the same directory, fsync, then os.replace: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, sort_keys=False, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def safe_relative(root: Path, rel: str) -> Path:
    """Resolve a manifest path, refusing absolute paths and anything that leaves ``root``."""
    if not rel or os.path.isabs(rel) or rel.startswith("~"):
        msg = f"manifest names an absolute or empty path {rel!r}; refusing (paths must be relative to {root})"
        raise ManifestError(msg)
    full = (root / rel).resolve()
    if not full.is_relative_to(root.resolve()):
        msg = f"manifest names {rel!r}, which is outside {root}; refusing"
        raise ManifestError(msg)
    return full


def load_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if not path.is_file():
        msg = f"{root} has no {MANIFEST}; convert first: python -m convert --out {root}"
        raise ManifestError(msg)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        msg = f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})"
        raise ManifestError(msg) from exc
    if doc.get("schema_version") != SCHEMA_VERSION:
        msg = f"{path} has schema_version {doc.get('schema_version')!r}; this qaport reads {SCHEMA_VERSION}"
        raise ManifestError(msg)
    return doc


def model_inputs(doc: dict[str, Any]) -> tuple[str, ...]:
    """The model inputs the manifest records (``architecture.inputs``); older manifests, written before
    qaport took more than DistilBERT, mean DistilBERT's ``input_ids``, ``attention_mask``."""
    from qaport.architectures import inputs_of

    return inputs_of(doc)


def all_entries(doc: dict[str, Any]) -> list[dict[str, Any]]:
    entries = list(doc.get("files", []))
    for fmt in doc.get("formats", {}).values():
        entries += fmt.get("files", [])
    return entries


def check_entries(root: Path, entries: list[dict[str, Any]]) -> list[str]:
    """Problems with listed files (missing, size or sha256 differs); unsafe paths raise."""
    problems = []
    for entry in entries:
        path = safe_relative(root, entry["path"])
        if not path.is_file():
            problems.append(f"{entry['path']} is listed in the manifest but missing")
        elif path.stat().st_size != entry["size"] or sha256_file(path) != entry["sha256"]:
            problems.append(f"{entry['path']} does not match its manifest checksum (modified after conversion?)")
    return problems


def unlisted_files(root: Path, doc: dict[str, Any], allow_extra: tuple[str, ...] = ()) -> list[str]:
    listed = {safe_relative(root, e["path"]).relative_to(root.resolve()).as_posix() for e in all_entries(doc)}
    skip = {MANIFEST, *allow_extra}
    return [
        f"{rel} is not in the manifest (extra file)"
        for path in sorted(root.rglob("*"))
        if path.is_file() and (rel := path.relative_to(root).as_posix()) not in listed and rel not in skip
    ]


def verify_files(root: Path, doc: dict[str, Any], *, allow_extra: tuple[str, ...] = ()) -> None:
    """Every listed file exists with its size and sha256, and nothing unlisted sits beside them."""
    problems = check_entries(root, all_entries(doc)) + unlisted_files(root, doc, allow_extra)
    if problems:
        msg = f"{root}: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        raise ManifestError(msg)
