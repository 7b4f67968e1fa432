"""Build @tensorflow/tfjs-node's native addon offline, against the CPU-only libtensorflow of a pip wheel.

tfjs-node's own install script downloads libtensorflow (and a prebuilt addon) from storage.googleapis.com,
which is not reachable where only package registries are. So ``npm ci --ignore-scripts`` installs its
JavaScript, and this script compiles its addon (binding/*.cc, ~20 s) with node-gyp (a devDependency)
against the libtensorflow inside a pip wheel:

    tensorflow/libtensorflow_cc.so.2          (the TF and TFE C API symbols)
    tensorflow/libtensorflow_framework.so.2
    tensorflow/include/tensorflow/c/...       (c_api.h, eager/c_api.h)

By default (Linux x86-64) that wheel is ``tensorflow-cpu==2.19.0``, fetched once with ``pip download``
(sha256-pinned) into a cache this script owns, ``~/.cache/qaport/libtensorflow-cpu-2.19.0`` (or
``$QAPORT_CACHE_DIR/libtensorflow-cpu-2.19.0``); only the two libraries and the headers the build needs
are kept. It is the same TensorFlow as the ``tensorflow`` wheel without the CUDA plugins: the ``tensorflow``
wheel's two libraries both carry cuFFT/cuDNN/cuBLAS factories and XLA's computation placer, registered by
static initialisers at load time, so every process that loaded it printed "Unable to register ... factory"
and "computation placer already registered" through absl logging, which TF_CPP_MIN_LOG_LEVEL does not
reach. ``--libtensorflow python`` builds against the running Python's ``tensorflow`` package instead (the
only choice elsewhere than Linux x86-64).

Beside the addon it builds ``qaport_tflog.node``, a 30-line N-API module that sets the minimum level of
libtensorflow's absl logging (``absl::SetMinLogLevel``). Some of TensorFlow 2.19's messages go through
absl rather than TF's own logger ("MLIR V1 optimization pass is not enabled" while a SavedModel
loads; XLA's); js/node/runtimes.mjs calls it with TF_CPP_MIN_LOG_LEVEL, so both loggers follow it.

``deps/`` inside the package gets symlinks to the libraries and headers (``-ltensorflow`` ->
libtensorflow_cc.so.2); the addon's RUNPATH, set by tfjs-node's binding.gyp, is ``$ORIGIN/../../deps/lib``,
so it finds them at run time. Node's headers come from the node installation (``--nodedir``), not from
nodejs.org.

Idempotent: a stamp next to the addon records what it was built against; when it matches and every
link resolves, the script exits at once:

    python js/node/build_tfjs_node.py [--force] [--libtensorflow tensorflow-cpu|python]
                                      [--package DIR/node_modules/@tensorflow/tfjs-node]

``--package`` builds the addon of another project's tfjs-node (a consumer of qaport's npm package that
installed ``@tensorflow/tfjs-node`` with ``npm install --ignore-scripts``); the default is js/'s.
The addon links to the libraries where they are (the cache, or the Python environment), so they must stay.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parent.parent  # js/, the npm project
PACKAGE = NODE_DIR / "node_modules" / "@tensorflow" / "tfjs-node"
NAPI_VERSION = "8"  # tfjs-node 4.22's highest napi_versions entry: node-pre-gyp looks in lib/napi-v8
ADDON = PACKAGE / "lib" / f"napi-v{NAPI_VERSION}" / "tfjs_binding.node"
STAMP = ADDON.with_name("qaport-build.json")
TFLOG = "qaport_tflog.node"  # beside the addon; js/node/runtimes.mjs loads it from there
NODE_GYP = NODE_DIR / "node_modules" / "node-gyp" / "bin" / "node-gyp.js"

# The CPU-only wheel whose libtensorflow the addon links to by default: the same TensorFlow as the
# toolchain's tensorflow==2.19.0, without CUDA. Its library does not depend on libpython, so one pinned
# file (cp311) serves whatever Python runs this script.
CPU_WHEEL = {
    "project": "tensorflow-cpu",
    "version": "2.19.0",
    "file": "tensorflow_cpu-2.19.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "sha256": "9389305ae3012288a5e367081b6757bfb9d86d4048c69989c659830b257e1c51",
}
LIBRARIES = ("libtensorflow_cc.so.2", "libtensorflow_framework.so.2")
HEADERS = ("tensorflow/c/", "tensorflow/core/platform/", "tsl/", "xla/tsl/", "absl/")  # under include/
NEEDED = [
    *LIBRARIES,
    "include/tensorflow/c/c_api.h",
    "include/tensorflow/c/eager/c_api.h",
    "include/absl/log/globals.h",
]
LIBTENSORFLOW_CHOICES = ("tensorflow-cpu", "python")


class BuildError(RuntimeError):
    pass


def tensorflow_dir() -> Path:
    """The running Python's tensorflow package (found without importing it, which takes seconds)."""
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or spec.origin is None:
        msg = f"tensorflow is not installed for {sys.executable}: run this with the project's toolchain Python"
        raise BuildError(msg)
    tf = Path(spec.origin).resolve().parent
    missing = [n for n in NEEDED if not (tf / n).is_file()]
    if missing:
        msg = f"the tensorflow wheel at {tf} lacks {', '.join(missing)} (tensorflow==2.19.0 from PyPI ships them)"
        raise BuildError(msg)
    return tf


def cache_dir() -> Path:
    """Where this script keeps the CPU wheel's libtensorflow: $QAPORT_CACHE_DIR or ~/.cache/qaport."""
    if os.environ.get("QAPORT_CACHE_DIR"):
        return Path(os.environ["QAPORT_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qaport"


def cpu_wheel_available() -> bool:
    """tensorflow-cpu 2.19.0 has a wheel for Linux x86-64 only."""
    return sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cpu_libtensorflow() -> Path:
    """The tensorflow-cpu wheel's libraries and headers, unpacked once into the cache; returns the directory
    holding ``libtensorflow_cc.so.2`` and ``include/``. The wheel comes from the package index through pip
    (``--require-hashes``: the pinned sha256) and is deleted once the files the build needs are out."""
    if not cpu_wheel_available():
        wheel = f"{CPU_WHEEL['project']}=={CPU_WHEEL['version']}"
        msg = f"{wheel} has no wheel for {sys.platform} {platform.machine()}: use --libtensorflow python"
        raise BuildError(msg)
    root = cache_dir()
    dest = root / f"libtensorflow-cpu-{CPU_WHEEL['version']}"
    if _complete(dest):
        return dest
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".libtensorflow-", dir=root) as tmp_name:
        tmp = Path(tmp_name)
        req = tmp / "requirements.txt"
        req.write_text(f"{CPU_WHEEL['project']}=={CPU_WHEEL['version']} --hash=sha256:{CPU_WHEEL['sha256']}\n")
        cmd = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
            "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
            "--platform", "manylinux2014_x86_64", "--require-hashes", "-r", str(req), "-d", str(tmp / "wheel"),
        ]  # fmt: skip
        print(f"fetching {CPU_WHEEL['file']} (252 MB) into {dest}", flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheel = tmp / "wheel" / CPU_WHEEL["file"]
        if proc.returncode != 0 or not wheel.is_file():
            what = f"pip download {CPU_WHEEL['project']}=={CPU_WHEEL['version']}"
            msg = f"{what} failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}"
            raise BuildError(msg)
        if _sha256(wheel) != CPU_WHEEL["sha256"]:
            msg = f"{wheel.name} does not have the pinned sha256 {CPU_WHEEL['sha256']}"
            raise BuildError(msg)
        out = tmp / "libtensorflow"
        with zipfile.ZipFile(wheel) as zf:
            for member in zf.namelist():
                rel = member.removeprefix("tensorflow/")
                keep = rel in LIBRARIES or (
                    rel.startswith("include/") and rel.removeprefix("include/").startswith(HEADERS)
                )
                if member.startswith("tensorflow/") and keep and not member.endswith("/"):
                    target = out / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(member) as src, target.open("wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        missing = [n for n in NEEDED if not (out / n).is_file()]
        if missing:
            msg = f"{wheel.name} lacks {', '.join(missing)}"
            raise BuildError(msg)
        (out / "qaport-wheel.json").write_text(json.dumps(CPU_WHEEL, indent=2) + "\n")
        if _complete(dest):  # a concurrent build finished first: keep its files (others may link to them)
            return dest
        if dest.exists():  # an incomplete earlier attempt
            shutil.rmtree(dest, ignore_errors=True)
        try:
            out.rename(dest)
        except OSError:
            if not _complete(dest):
                raise
    return dest


def _complete(dest: Path) -> bool:
    stamp = dest / "qaport-wheel.json"
    return stamp.is_file() and json.loads(stamp.read_text()) == CPU_WHEEL and all((dest / n).is_file() for n in NEEDED)


def libtensorflow(choice: str) -> Path:
    """The directory holding libtensorflow_cc.so.2, libtensorflow_framework.so.2 and include/."""
    if choice == "tensorflow-cpu":
        return cpu_libtensorflow()
    if choice == "python":
        return tensorflow_dir()
    msg = f"--libtensorflow must be one of {', '.join(LIBTENSORFLOW_CHOICES)}; got {choice!r}"
    raise BuildError(msg)


def default_libtensorflow() -> str:
    return "tensorflow-cpu" if cpu_wheel_available() else "python"


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


TFLOG_SOURCE = r"""// qaport: the minimum level of libtensorflow's absl logging (built by js/node/build_tfjs_node.py).
#include <node_api.h>

#include "absl/base/log_severity.h"
#include "absl/log/globals.h"

// setMinLogLevel(level): TF_CPP_MIN_LOG_LEVEL's scale (0 info, 1 warning, 2 error, 3 fatal only);
// returns the previous level on the same scale.
static napi_value SetMinLogLevel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t level = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &level) != napi_ok) {
    napi_throw_type_error(env, nullptr, "setMinLogLevel(level): level must be an integer");
    return nullptr;
  }
  const int previous = static_cast<int>(absl::MinLogLevel());
  absl::SetMinLogLevel(level <= 0   ? absl::LogSeverityAtLeast::kInfo
                       : level == 1 ? absl::LogSeverityAtLeast::kWarning
                       : level == 2 ? absl::LogSeverityAtLeast::kError
                                    : absl::LogSeverityAtLeast::kFatal);
  napi_value out;
  napi_create_int32(env, previous > 3 ? 3 : previous, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "setMinLogLevel", NAPI_AUTO_LENGTH, SetMinLogLevel, nullptr, &fn);
  napi_set_named_property(env, exports, "setMinLogLevel", fn);
  return exports;
}
"""


def _node_gyp(node: str, nodedir: Path | None, cwd: Path, *args: str) -> None:
    cmd = [
        node,
        str(NODE_GYP),
        "rebuild",
        f"--python={sys.executable}",
        f"--jobs={os.cpu_count() or 1}",
        *([f"--nodedir={nodedir}"] if nodedir else []),  # else node-gyp fetches the headers itself
        *args,
    ]
    print(f"  (in {cwd}) {' '.join(cmd)}", flush=True)
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        msg = f"node-gyp failed in {cwd} (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-4000:]}"
        raise BuildError(msg)


def build_tflog(node: str, nodedir: Path | None, package: Path, out: Path) -> None:
    """qaport_tflog.node: links to the package's deps/lib/libtensorflow_framework.so.2, the same library
    (by soname) the addon loaded, so it sets that library's absl log level."""
    deps = package / "deps"
    gyp = {
        "targets": [
            {
                "target_name": "qaport_tflog",
                "sources": ["tflog.cc"],
                "include_dirs": [str(deps / "include")],
                "libraries": [f"-L{deps / 'lib'}", "-ltensorflow_framework"],
                "ldflags": ["-Wl,-rpath,'$$ORIGIN/../../deps/lib'"],  # as tfjs-node's binding.gyp
                "cflags_cc": ["-std=c++17"],
            }
        ]
    }
    with tempfile.TemporaryDirectory(prefix="qaport-tflog-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "binding.gyp").write_text(json.dumps(gyp, indent=2))
        (tmp / "tflog.cc").write_text(TFLOG_SOURCE)
        _node_gyp(node, nodedir, tmp)
        built = tmp / "build" / "Release" / "qaport_tflog.node"
        if not built.is_file():
            msg = f"node-gyp built no {built.name} in {tmp}"
            raise BuildError(msg)
        shutil.copyfile(built, out)


SMOKE = """
const tf = require('@tensorflow/tfjs-node');
const tflog = require(process.argv[1]);
tflog.setMinLogLevel(Number(process.env.TF_CPP_MIN_LOG_LEVEL));
const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).dataSync();
if (tf.getBackend() !== 'tensorflow' || y.join() !== '19,22,43,50') process.exit(3);
console.log(tf.backend().binding.TF_Version);
"""


def build(force: bool = False, package: Path = PACKAGE, choice: str | None = None) -> str:
    """Build (or confirm) the addon of the tfjs-node at ``package``; returns a one-line status."""
    choice = choice or default_libtensorflow()
    package = package.resolve()
    addon = package / "lib" / f"napi-v{NAPI_VERSION}" / "tfjs_binding.node"
    tflog = addon.with_name(TFLOG)
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
    tf = libtensorflow(choice)
    node, node_version, nodedir = node_info()
    tfjs_node_version = json.loads((package / "package.json").read_text())["version"]
    want = {
        "libtensorflow": choice,
        "tensorflow_dir": str(tf),
        "node": node_version,
        "tfjs_node": tfjs_node_version,
        "napi": NAPI_VERSION,
        "tflog": 1,
    }
    deps = package / "deps"
    links_ok = all((deps / "lib" / n).exists() for n in LIBRARIES) and (deps / "include").exists()
    built = addon.is_file() and tflog.is_file() and links_ok and stamp.is_file()
    if not force and built and json.loads(stamp.read_text()) == want:
        return f"tfjs-node addon up to date ({addon.relative_to(project)}, libtensorflow from {tf})"

    (deps / "lib").mkdir(parents=True, exist_ok=True)
    link(deps / "include", tf / "include")
    for name in LIBRARIES:
        link(deps / "lib" / name, tf / name)
    link(deps / "lib" / "libtensorflow.so", "libtensorflow_cc.so.2")  # binding.gyp links -ltensorflow
    link(deps / "lib" / "libtensorflow_framework.so", "libtensorflow_framework.so.2")
    stamp.unlink(missing_ok=True)

    print(f"building the tfjs-node addon against {tf} ({choice}):", flush=True)
    _node_gyp(
        node,
        nodedir,
        package,
        f"--napi_build_version={NAPI_VERSION}",
        "--module_name=tfjs_binding",
        f"--module_path={addon.parent}",  # absolute: a relative one lands under build/
    )
    if not addon.is_file():
        msg = f"node-gyp built no {addon}"
        raise BuildError(msg)
    build_tflog(node, nodedir, package, tflog)

    # Smoke test in a fresh node: the addon loads with every symbol bound now (LD_BIND_NOW: the C API the
    # addon was compiled against is all there), registers the 'tensorflow' backend and computes; the
    # log module loads. On the CPU-only library nothing at all reaches stderr at level 2.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "LD_BIND_NOW": "1"}
    smoke = subprocess.run(
        [node, "-e", SMOKE, str(tflog)], cwd=project, capture_output=True, text=True, env=env, check=False
    )
    if smoke.returncode != 0:
        msg = f"the built addon does not work (exit {smoke.returncode}):\n{smoke.stderr[-4000:]}"
        raise BuildError(msg)
    if choice == "tensorflow-cpu" and smoke.stderr:
        msg = f"the addon on {CPU_WHEEL['project']}'s libtensorflow printed to stderr:\n{smoke.stderr[-4000:]}"
        raise BuildError(msg)
    stamp.write_text(json.dumps(want, indent=2) + "\n")
    return f"built {addon.relative_to(project)} against libtensorflow {smoke.stdout.strip()} ({choice}) from {tf}"


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
    p.add_argument(
        "--libtensorflow",
        choices=LIBTENSORFLOW_CHOICES,
        default=None,
        help=f"tensorflow-cpu: the CPU-only {CPU_WHEEL['project']}=={CPU_WHEEL['version']} wheel's, fetched once "
        f"into {cache_dir()} (default on Linux x86-64); python: the running Python's tensorflow package's",
    )
    args = p.parse_args(argv)
    try:
        print(build(force=args.force, package=args.package, choice=args.libtensorflow))
    except BuildError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
