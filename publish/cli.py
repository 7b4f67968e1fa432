"""``python -m publish DIR``: build the npm package of a validated artifact directory (DIR/npm/*.tgz)."""

from __future__ import annotations

import argparse
from pathlib import Path

from publish.npm_package import DEFAULT_NAME, DEFAULT_VERSION, build_package
from qaport.boundary import entry_point


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m publish", description=__doc__)
    p.add_argument("dir", type=Path, help="artifact directory, converted and validated (report.json passed)")
    p.add_argument("--name", default=DEFAULT_NAME, help=f"npm package name (default {DEFAULT_NAME})")
    p.add_argument("--version", default=DEFAULT_VERSION, help=f"package version (default {DEFAULT_VERSION})")
    p.add_argument("--dry-run-publish", action="store_true", help="also run npm publish --dry-run on the tarball")
    p.add_argument(
        "--formats",
        help="comma-separated formats to ship (savedmodel,tfjs,tfjs-fp16,onnx,onnx-int8; default: every one the "
        "directory has); ship only what your consumers run: the full-size SavedModel is 253 MB",
    )
    return p


@entry_point("publish", interrupted="interrupted; DIR/npm and manifest.json were left as they were")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    entry = build_package(
        args.dir,
        args.name,
        args.version,
        dry_run_publish=args.dry_run_publish,
        formats=[f.strip() for f in args.formats.split(",") if f.strip()] if args.formats else None,
        progress=lambda s: print(s, flush=True),
    )
    print(
        f"{entry['name']}@{entry['version']}: {args.dir / entry['tarball']} {entry['size']} bytes {entry['integrity']}"
    )
    return 0
