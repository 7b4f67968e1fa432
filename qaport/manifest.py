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


# A real manifest is tens of kilobytes; a huge one is damage, refused before it is read into memory.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def _shape_problem(doc: Any) -> str | None:  # noqa: PLR0911 (one return per problem, the first found)
    """What makes a parsed manifest unusable (wrong shape or types), or None."""
    if not isinstance(doc, dict):
        return f"is a JSON {type(doc).__name__}, not an object"
    if doc.get("schema_version") != SCHEMA_VERSION:
        return f"has schema_version {doc.get('schema_version')!r}; this qaport reads {SCHEMA_VERSION}"
    if not isinstance(doc.get("source"), dict):
        return "has no 'source' object"
    if not isinstance(doc.get("formats"), dict):
        return "has no 'formats' object"
    lists = [("files", doc.get("files", []))]
    for name, rec in doc["formats"].items():
        if not isinstance(rec, dict) or not isinstance(rec.get("files"), list):
            return f"has a format {name!r} without a 'files' list"
        if not isinstance(rec.get("main_file"), str):
            return f"has a format {name!r} without a 'main_file' path"
        lists.append((f"formats.{name}.files", rec["files"]))
    for where, entries in lists:
        if not isinstance(entries, list):
            return f"has a '{where}' that is not a list"
        for entry in entries:
            ok = (
                isinstance(entry, dict)
                and isinstance(entry.get("path"), str)
                and entry["path"] != ""
                and type(entry.get("size")) is int
                and entry["size"] >= 0
                and isinstance(entry.get("sha256"), str)
                and len(entry["sha256"]) == 64
            )
            if not ok:
                return f"has an entry in '{where}' without a path, size and sha256: {json.dumps(entry)[:100]}"
    client = doc.get("client_formats", {})
    if not isinstance(client, dict) or not all(isinstance(v, dict) for v in client.values()):
        return "has a 'client_formats' that is not an object of objects"
    return None


def load_manifest(root: Path) -> dict[str, Any]:
    """The directory's manifest, read and checked: one ManifestError naming the file for any damage
    (missing, a symlink leaving the directory, huge, not UTF-8, not JSON, the wrong shape or types)."""
    path = root / MANIFEST
    if not path.is_file():
        msg = f"{root} has no {MANIFEST}; convert first: python -m convert --out {root}"
        raise ManifestError(msg)
    if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
        msg = f"{path} is a symlink to {path.resolve()}, outside {root}; a manifest must be the directory's own file"
        raise ManifestError(msg)
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        size = path.stat().st_size / 1e6
        msg = f"{path} is {size:.0f} MB, not a manifest (at most {MAX_MANIFEST_BYTES >> 20} MB); convert again"
        raise ManifestError(msg)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"{path} cannot be read ({exc.strerror or exc}); check its permissions"
        raise ManifestError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = f"{path} is not UTF-8 text (byte {exc.start}); it is damaged: convert again"
        raise ManifestError(msg) from exc
    except json.JSONDecodeError as exc:
        msg = f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})"
        raise ManifestError(msg) from exc
    problem = _shape_problem(doc)
    if problem is not None:
        if problem.startswith("has schema_version"):
            raise ManifestError(f"{path} {problem}")
        msg = f"{path} {problem}; it is not a qaport manifest or it is damaged: convert again"
        raise ManifestError(msg)
    return dict(doc)


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


def _leaving_symlink(root: Path, rel: str) -> Path | None:
    """Where a listed file points when it is a symlink leaving ``root``: that is the file's fault, judged
    per file (its format fails), not the manifest's (a ``..`` or absolute path, which ``safe_relative`` refuses)."""
    if not rel or os.path.isabs(rel) or rel.startswith("~") or ".." in Path(rel).parts:
        return None
    path = root / rel
    if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
        return path.resolve()
    return None


def check_entries(root: Path, entries: list[dict[str, Any]]) -> list[str]:
    """Problems with listed files (missing, a symlink leaving the directory, size or sha256 differs);
    unsafe paths raise."""
    problems = []
    for entry in entries:
        target = _leaving_symlink(root, entry["path"])
        if target is not None:
            problems.append(f"{entry['path']} is a symlink to {target}, outside the directory; convert again")
            continue
        path = safe_relative(root, entry["path"])
        if not path.is_file():
            problems.append(f"{entry['path']} is listed in the manifest but missing")
        elif path.stat().st_size != entry["size"] or sha256_file(path) != entry["sha256"]:
            problems.append(f"{entry['path']} does not match its manifest checksum (modified after conversion?)")
    return problems


def unlisted_files(root: Path, doc: dict[str, Any], allow_extra: tuple[str, ...] = ()) -> list[str]:
    listed = {
        Path(os.path.normpath(e["path"])).as_posix()
        if _leaving_symlink(root, e["path"])
        else safe_relative(root, e["path"]).relative_to(root.resolve()).as_posix()
        for e in all_entries(doc)
    }
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
