"""Build @tensorflow/tfjs-node's native addon offline, against the pip tensorflow wheel's libtensorflow.

tfjs-node's own install script downloads libtensorflow (and a prebuilt addon) from storage.googleapis.com,
which is not reachable where only package registries are. So ``npm ci --ignore-scripts`` installs its
JavaScript, and this script compiles its addon (binding/*.cc, ~20 s) with node-gyp (a devDependency)
against what the tensorflow wheel of the running Python already ships:

    tensorflow/libtensorflow_cc.so.2          (the TF and TFE C API symbols)
    tensorflow/libtensorflow_framework.so.2
    tensorflow/include/tensorflow/c/...       (c_api.h, eager/c_api.h)

``deps/`` inside the package gets symlinks to them (``-ltensorflow`` -> libtensorflow_cc.so.2); the
addon's RUNPATH, set by tfjs-node's binding.gyp, is ``$ORIGIN/../../deps/lib``, so it finds them at run
time. Node's headers come from the node installation (``--nodedir``), not from nodejs.org.

Idempotent: a stamp next to the addon records what it was built against; when it matches and every
link resolves, the script exits at once. Run it with the Python whose tensorflow should be used:

    python js/node/build_tfjs_node.py [--force] [--package DIR/node_modules/@tensorflow/tfjs-node]

``--package`` builds the addon of another project's tfjs-node (a consumer of qaport's npm package that
installed ``@tensorflow/tfjs-node`` with ``npm install --ignore-scripts``); the default is js/'s.
The addon links to the wheel's libraries where they are, so that Python environment must stay.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parent.parent  # js/, the npm project
PACKAGE = NODE_DIR / "node_modules" / "@tensorflow" / "tfjs-node"
NAPI_VERSION = "8"  # tfjs-node 4.22's highest napi_versions entry: node-pre-gyp looks in lib/napi-v8
ADDON = PACKAGE / "lib" / f"napi-v{NAPI_VERSION}" / "tfjs_binding.node"
STAMP = ADDON.with_name("qaport-build.json")
NODE_GYP = NODE_DIR / "node_modules" / "node-gyp" / "bin" / "node-gyp.js"


class BuildError(RuntimeError):
    pass


def tensorflow_dir() -> Path:
    """The installed tensorflow package (found without importing it, which takes seconds)."""
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or spec.origin is None:
        msg = f"tensorflow is not installed for {sys.executable}: run this with the project's toolchain Python"
        raise BuildError(msg)
    tf = Path(spec.origin).resolve().parent
    needed = [
        "libtensorflow_cc.so.2",
        "libtensorflow_framework.so.2",
        "include/tensorflow/c/c_api.h",
        "include/tensorflow/c/eager/c_api.h",
    ]
    missing = [n for n in needed if not (tf / n).is_file()]
    if missing:
        msg = f"the tensorflow wheel at {tf} lacks {', '.join(missing)} (tensorflow==2.19.0 from PyPI ships them)"
        raise BuildError(msg)
    return tf


def node_info() -> tuple[str, str, Path | None]:
    """(node executable, its version, the install prefix holding include/node/node_api.h or None)."""
    node = shutil.which("node")
    if node is None:
        msg = "node (Node.js 20) is not on PATH"
        raise BuildError(msg)
    out = subprocess.run(
        [node, "-p", "process.execPath + '\\n' + process.version"], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    prefix = Path(out[0]).resolve().parent.parent
    headers = prefix if (prefix / "include" / "node" / "node_api.h").is_file() else None
    return node, out[1].strip(), headers


def link(path: Path, target: Path | str) -> None:
    if path.is_symlink() or path.exists():
        path.unlink()
    path.symlink_to(target)


def build(force: bool = False, package: Path = PACKAGE) -> str:
    """Build (or confirm) the addon of the tfjs-node at ``package``; returns a one-line status."""
    package = package.resolve()
    addon = package / "lib" / f"napi-v{NAPI_VERSION}" / "tfjs_binding.node"
    stamp = addon.with_name("qaport-build.json")
    project = package.parents[2]  # .../project/node_modules/@tensorflow/tfjs-node
    if not (package / "package.json").is_file():
        fix = (
            f"run npm ci --ignore-scripts in {NODE_DIR} first"
            if package == PACKAGE.resolve()
            else ("install it there first: npm install --ignore-scripts @tensorflow/tfjs-node@4.22.0")
        )
        msg = f"{package} is missing: {fix}"
        raise BuildError(msg)
    if not NODE_GYP.is_file():
        msg = f"{NODE_GYP} is missing: node-gyp is a devDependency of {NODE_DIR}/package.json (npm ci installs it)"
        raise BuildError(msg)
    tf = tensorflow_dir()
    node, node_version, nodedir = node_info()
    tfjs_node_version = json.loads((package / "package.json").read_text())["version"]
    want = {"tensorflow_dir": str(tf), "node": node_version, "tfjs_node": tfjs_node_version, "napi": NAPI_VERSION}
    deps = package / "deps"
    links_ok = all((deps / "lib" / n).exists() for n in ("libtensorflow_cc.so.2", "libtensorflow_framework.so.2"))
    if not force and addon.is_file() and links_ok and stamp.is_file() and json.loads(stamp.read_text()) == want:
        return f"tfjs-node addon up to date ({addon.relative_to(project)}, libtensorflow from {tf})"

    (deps / "lib").mkdir(parents=True, exist_ok=True)
    link(deps / "include", tf / "include")
    for name in ("libtensorflow_cc.so.2", "libtensorflow_framework.so.2"):
        link(deps / "lib" / name, tf / name)
    link(deps / "lib" / "libtensorflow.so", "libtensorflow_cc.so.2")  # binding.gyp links -ltensorflow
    link(deps / "lib" / "libtensorflow_framework.so", "libtensorflow_framework.so.2")
    stamp.unlink(missing_ok=True)

    cmd = [
        node,
        str(NODE_GYP),
        "rebuild",
        f"--python={sys.executable}",
        f"--napi_build_version={NAPI_VERSION}",
        "--module_name=tfjs_binding",
        f"--module_path={addon.parent}",  # absolute: a relative one lands under build/
        f"--jobs={os.cpu_count() or 1}",
        *([f"--nodedir={nodedir}"] if nodedir else []),  # else node-gyp fetches the headers itself
    ]
    print(f"building the tfjs-node addon against {tf}:\n  {' '.join(cmd)}", flush=True)
    proc = subprocess.run(cmd, cwd=package, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not addon.is_file():
        msg = f"node-gyp failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-4000:]}"
        raise BuildError(msg)

    # Smoke test in a fresh node: the addon loads, registers the 'tensorflow' backend and computes.
    check = (
        "const tf = require('@tensorflow/tfjs-node');"
        "const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).dataSync();"
        "if (tf.getBackend() !== 'tensorflow' || y.join() !== '19,22,43,50') process.exit(3);"
        "console.log(tf.backend().binding.TF_Version);"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    smoke = subprocess.run([node, "-e", check], cwd=project, capture_output=True, text=True, env=env, check=False)
    if smoke.returncode != 0:
        msg = f"the built addon does not work (exit {smoke.returncode}):\n{smoke.stderr[-4000:]}"
        raise BuildError(msg)
    stamp.write_text(json.dumps(want, indent=2) + "\n")
    return f"built {addon.relative_to(project)} against libtensorflow {smoke.stdout.strip()} from {tf}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--force", action="store_true", help="rebuild even when the stamp says up to date")
    p.add_argument(
        "--package",
        type=Path,
        default=PACKAGE,
        help="the @tensorflow/tfjs-node directory to build (default: js/'s; a consumer's: "
        "PROJECT/node_modules/@tensorflow/tfjs-node)",
    )
    args = p.parse_args(argv)
    try:
        print(build(force=args.force, package=args.package))
    except BuildError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
