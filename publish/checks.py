"""Is an artifact directory fit to publish? Validated, passed, and unchanged since."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

from qaport.errors import QaportError, UsageError
from qaport.manifest import check_entries, unlisted_files
from qaport.registry import SHIPPABLE  # format -> the Node.js targets that must have passed

NPM_DIR = "npm"
REPORT_FILES = ("report.json", "report.md")


def shipped_formats(manifest: dict[str, Any], requested: list[str] | None) -> list[str]:
    """The formats to package: those asked for, or every shippable format the directory has."""
    have = [f for f in SHIPPABLE if f in manifest["formats"]]
    if requested is None:
        if not have:
            msg = f"the directory has no format the npm package can ship ({', '.join(SHIPPABLE)}); convert one"
            raise PublishRefused(msg)
        return have
    unknown = [f for f in requested if f not in SHIPPABLE]
    if unknown:
        close = difflib.get_close_matches(unknown[0], SHIPPABLE, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        names = ", ".join(map(repr, unknown))
        msg = f"--formats names {names}, which the package cannot ship; {hint}shippable: {', '.join(SHIPPABLE)}"
        raise UsageError(msg)
    absent = [f for f in requested if f not in manifest["formats"]]
    if absent:
        msg = (
            f"--formats asks for {', '.join(absent)}, which the directory does not have (it has "
            f"{', '.join(manifest['formats'])}); convert it or leave it out"
        )
        raise PublishRefused(msg)
    return [f for f in SHIPPABLE if f in requested]


# npm's rules (validate-npm-package-name): lowercase, URL-safe, at most 214 characters, optional scope.
_NAME = re.compile(r"^(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class PublishRefused(QaportError):
    """The directory is not fit to publish (not validated, failed, or modified since)."""

    exit_code = 2


class NpmError(QaportError):
    """npm is missing or one of its commands failed (the message carries its last lines)."""

    exit_code = 1


def check_name_version(name: str, version: str) -> None:
    if len(name) > 214 or not _NAME.match(name):
        msg = (
            f"--name {name!r} is not a valid npm package name "
            "(lowercase letters, digits, '-', '.', '_', '~', optionally @scope/; at most 214 characters)"
        )
        raise UsageError(msg)
    if not _SEMVER.match(version):
        msg = f"--version {version!r} is not a semantic version like 0.1.0 or 1.0.0-rc.1"
        raise UsageError(msg)


def dist_tag(version: str) -> str:
    """npm refuses to publish a prerelease under ``latest`` without an explicit tag."""
    return "next" if "-" in version.split("+", 1)[0] else "latest"


def is_npm(path: str) -> bool:
    return path == NPM_DIR or path.startswith(f"{NPM_DIR}/")


def load_report(root: Path) -> dict[str, Any]:
    path = root / "report.json"
    if not path.is_file():
        msg = f"{root} has no report.json: it was never validated; run python -m validate {root} first"
        raise PublishRefused(msg)
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        msg = f"{path} is not valid JSON ({exc}); re-run python -m validate {root}"
        raise PublishRefused(msg) from exc
    targets = report.get("targets") if isinstance(report, dict) else None
    if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
        msg = f"{path} is not a qaport report (no list of targets); re-run python -m validate {root}"
        raise PublishRefused(msg)
    for t in targets:  # the fields the checks read, with their types
        if not isinstance(t.get("id", ""), str) or not isinstance(t.get("answers", {}), dict):
            msg = f"{path} has a target of the wrong shape ({json.dumps(t)[:80]}); re-run python -m validate {root}"
            raise PublishRefused(msg)
    return report


def check_report(root: Path, manifest: dict[str, Any], report: dict[str, Any], formats: list[str]) -> None:
    """The report passed, is about this model, and proved every shipped format in its Node runtime."""
    targets = {t.get("id"): t for t in report.get("targets", []) if isinstance(t, dict)}
    if report.get("passed") is not True:
        failed = [f"{i} ({t.get('status')})" for i, t in targets.items() if t.get("status") not in ("passed",)]
        msg = (
            f"{root}/report.json did not pass (not passed: {', '.join(failed) or 'no target ran'}); "
            "fix the failing formats and re-validate before publishing"
        )
        raise PublishRefused(msg)
    if report.get("model") != manifest["source"].get("spec"):
        msg = (
            f"{root}/report.json is about model {report.get('model')!r} but manifest.json about "
            f"{manifest['source'].get('spec')!r}; re-run python -m validate {root}"
        )
        raise PublishRefused(msg)
    unproved = [tid for f in formats for tid in SHIPPABLE[f] if targets.get(tid, {}).get("status") != "passed"]
    if unproved:
        what = ", ".join(f"{tid} ({targets.get(tid, {}).get('status', 'absent')})" for tid in unproved)
        msg = (
            f"{root}/report.json does not show these shipped targets passed: {what}; validate them (no --exclude) "
            "or leave their formats out with --formats"
        )
        raise PublishRefused(msg)


def check_checksums(root: Path, manifest: dict[str, Any]) -> None:
    """Every listed file matches; nothing unlisted. ``npm/`` is ours and is rebuilt, so it is not checked."""
    entries = [e for e in manifest.get("files", []) if not is_npm(e["path"])]
    for fmt in manifest["formats"].values():
        entries += fmt.get("files", [])
    problems = check_entries(root, entries)
    problems += [p for p in unlisted_files(root, manifest, REPORT_FILES) if not is_npm(p.split(" ", 1)[0])]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        msg = f"{root}: {problems[0]}{more}; refusing to publish: re-convert and re-validate"
        raise PublishRefused(msg)
