"""Where qaport's JavaScript lives: one npm project, ``js/``, that validation drives and the npm package ships.

    js/core/     host-agnostic: windowing and decoding (qa.mjs), the tokenizer, the model contract
    js/node/     the Node.js host (runtimes.mjs loads each format; runner.mjs serves validation)
    js/browser/  the browser host and the headless-Chromium validation runner
    js/client/   the npm client (QAClient)

``npm ci`` in ``js/`` installs every runtime package (nox does it); the package ships files of this tree
at the same relative paths, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

JS_DIR = Path(__file__).resolve().parent.parent / "js"
NODE_MODULES = JS_DIR / "node_modules"
NODE_RUNNER = JS_DIR / "node" / "runner.mjs"
BROWSER_RUNNER = JS_DIR / "browser" / "runner.mjs"
BUILD_TFJS_NODE = JS_DIR / "node" / "build_tfjs_node.py"
PACKAGE_JSON = JS_DIR / "package.json"
INSTALL_HINT = "run: npm ci --ignore-scripts in js/ (nox -s validate does it)"
