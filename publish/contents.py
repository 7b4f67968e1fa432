"""What goes into the npm package: model files, a trimmed manifest, package.json, README, JS code."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from publish.checks import SHIPPABLE, NpmError, is_npm
from qaport.javascript import JS_DIR, PACKAGE_JSON
from qaport.manifest import safe_relative, write_json_atomic
from qaport.registry import FORMATS, client_formats

NODE_PACKAGE_JSON = PACKAGE_JSON  # js/package.json: the versions validation ran with
MODEL_DIR = "model"
# The package ships these files of qaport's js/ folder at the same relative paths, byte for byte: the npm
# client and the windowing/decoding and model loading that validation ran (their relative imports hold).
CLIENT_ENTRY = "client/index.js"
CLIENT_TYPES = "client/index.d.ts"
BROWSER_ENTRY = "client/browser.js"  # bundlers resolve it through the `browser` export condition
BROWSER_TYPES = "client/browser.d.ts"
WEB_ASSETS_BIN = "client/web-assets.js"  # `npx qaport-web-assets public/`: model and wasm files for a web app
SHIPPED_JS = (
    CLIENT_ENTRY,
    CLIENT_TYPES,
    BROWSER_ENTRY,
    BROWSER_TYPES,
    "client/qaclient.js",
    WEB_ASSETS_BIN,
    "core/qa.mjs",
    "core/models.mjs",
    "core/tokenizer.mjs",
    "core/unicode-data.mjs",
    "node/runtimes.mjs",
    "browser/runtimes.mjs",
)
TFJS_NODE = "@tensorflow/tfjs-node"


def client_option(fmt: str) -> tuple[str, str]:
    """(runtime, quantized) of a format in QAClient.fromOptions."""
    client = FORMATS[fmt].client
    if client is None:
        msg = f"format {fmt} has no npm client option"
        raise NpmError(msg)
    return client[0], str(client[1]).lower()


def tfjs_node_version() -> str:
    """The @tensorflow/tfjs-node version validation ran (a devDependency there, a peer of the package)."""
    doc = json.loads(NODE_PACKAGE_JSON.read_text(encoding="utf-8"))
    return str(doc.get("devDependencies", {}).get(TFJS_NODE) or doc["dependencies"]["@tensorflow/tfjs-core"])


def node_dependencies() -> dict[str, str]:
    """The exact versions validation ran with (js/package.json), so the package runs the same."""
    deps: dict[str, str] = json.loads(NODE_PACKAGE_JSON.read_text(encoding="utf-8"))["dependencies"]
    loose = [f"{k}@{v}" for k, v in deps.items() if not re.fullmatch(r"\d+\.\d+\.\d+(-[\w.]+)?", v)]
    if loose:
        msg = f"{NODE_PACKAGE_JSON} must pin exact versions for the package; found ranges: {', '.join(loose)}"
        raise NpmError(msg)
    return dict(sorted(deps.items()))


def _validation_summary(report: dict[str, Any], formats: list[str]) -> dict[str, Any]:
    targets = {t["id"]: t for t in report.get("targets", []) if isinstance(t, dict) and "id" in t}
    out: dict[str, Any] = {"passed": True, "examples": report.get("examples", {}).get("count"), "targets": {}}
    for fmt in formats:
        for tid in SHIPPABLE[fmt]:
            t = targets[tid]
            answers = t.get("answers", {})
            out["targets"][tid] = {
                "format": fmt,
                "target": tid,
                "runtime": t.get("runtime"),
                "status": t.get("status"),
                "agree": answers.get("agree"),
                "tie": answers.get("tie"),
                "disagree": answers.get("disagree"),
                "agreement": answers.get("agreement"),
                "required_agreement": answers.get("required_agreement"),
                "max_abs_diff": {k: v.get("max_abs_diff") for k, v in t.get("logits", {}).items()},
            }
    return out


def trimmed_manifest(
    manifest: dict[str, Any], report: dict[str, Any], name: str, version: str, formats: list[str]
) -> dict[str, Any]:
    """What the JS client needs (checksums, output names, input signature) and what a user wants to know."""
    source = {
        k: manifest["source"][k]
        for k in ("kind", "name", "weights_sha256", "weights_digest")
        if k in manifest["source"]
    }
    if manifest["source"].get("kind") != "local":  # a local path says nothing to a package user
        source["spec"] = manifest["source"].get("spec")
    records = {}
    for fmt in formats:
        rec = manifest["formats"][fmt]
        records[fmt] = {
            "main_file": rec["main_file"],
            "precision": rec["precision"],
            "description": rec.get("description"),
            "output_names": rec["output_names"],
            "signature": {"inputs": rec.get("signature", {}).get("inputs", {})},
            "files": rec["files"],
        }
    return {
        "schema_version": manifest["schema_version"],
        "created_by": "qaport publish",
        "package": {"name": name, "version": version},
        "source": source,
        "tools": manifest.get("tools", {}),
        "fixed_length": manifest.get("fixed_length"),
        "client_formats": client_formats(formats),
        "files": [e for e in manifest.get("files", []) if not is_npm(e["path"])],
        "formats": records,
        "validation": _validation_summary(report, formats),
    }


def _package_json(name: str, version: str, manifest: dict[str, Any], formats: list[str]) -> dict[str, Any]:
    model = manifest["source"].get("name", "model")
    # tfjs-node (libtensorflow) is optional: the SavedModel needs it, TF.js uses it when installed.
    peers = {TFJS_NODE: tfjs_node_version()} if {"savedmodel", "tfjs", "tfjs-fp16"} & set(formats) else {}
    doc: dict[str, Any] = {
        "name": name,
        "version": version,
        "description": (
            f"Extractive question answering in Node.js and browsers with the model '{model}', converted and "
            "validated by qaport (onnxruntime-node/-web, TensorFlow.js, or the SavedModel on tfjs-node; "
            "float32 and quantised)."
        ),
        "type": "module",
        "main": f"./{CLIENT_ENTRY}",
        "types": f"./{CLIENT_TYPES}",
        "exports": {
            ".": {
                # bundlers targeting browsers (esbuild --platform=browser, Vite, webpack) match `browser` first
                "browser": {"types": f"./{BROWSER_TYPES}", "default": f"./{BROWSER_ENTRY}"},
                "types": f"./{CLIENT_TYPES}",
                "import": f"./{CLIENT_ENTRY}",
                "default": f"./{CLIENT_ENTRY}",
            },
            "./model/*": "./model/*",
            "./package.json": "./package.json",
        },
        "bin": {"qaport-web-assets": f"./{WEB_ASSETS_BIN}"},
        "files": [*SHIPPED_JS, "README.md", f"{MODEL_DIR}/"],
        "engines": {"node": ">=20"},
        "keywords": ["question-answering", "distilbert", "onnx", "tensorflowjs", "nlp", "browser"],
        "license": "Apache-2.0",
        "dependencies": node_dependencies(),
    }
    if peers:
        doc["peerDependencies"] = peers
        doc["peerDependenciesMeta"] = {k: {"optional": True} for k in peers}
    return doc


def _readme(name: str, version: str, trimmed: dict[str, Any]) -> str:
    rows = []
    for t in trimmed["validation"]["targets"].values():
        runtime, quantized = client_option(t["format"])
        agree = f"{t['agree']} + {t['tie']} ties / {(t['agree'] or 0) + (t['tie'] or 0) + (t['disagree'] or 0)}"
        rows.append(f"| `{runtime}` | {quantized} | {t['format']} | {t['runtime']} | {agree} |")
    table = "\n".join(rows)
    offered = ", ".join(f"`{r}`" for r in trimmed["client_formats"])
    tfjs_node = f"{TFJS_NODE}@{tfjs_node_version()}"
    web = ", ".join(f"`{r}`" for r in trimmed["client_formats"] if r != "savedmodel")
    return f"""# {name}

Extractive question answering for Node.js (>= 20) and browsers with the model
`{trimmed["source"].get("name")}`, converted and validated by qaport. Version {version}.

```js
import {{ QAClient }} from '{name}';
const qa = await QAClient.fromOptions({{ runtime: 'onnx', quantized: false }});
const {{ text, score, start, end }} = await qa.predict('Who won?', 'The Tigers beat the Lions 24-10.');
console.log(text, score, start, end);
qa.dispose();
```

- `runtime` (this package ships {offered}): `'onnx'` (onnxruntime-node), `'tfjs'` (TensorFlow.js
  graph model; `backend: 'tensorflow'` is libtensorflow through `@tensorflow/tfjs-node`, chosen when that
  package is installed, else `'wasm'`; `'cpu'` is pure JS) or `'savedmodel'` (the TF SavedModel on
  `@tensorflow/tfjs-node`, `tf.node.loadSavedModel` with its `serving_default` signature).
- `quantized`: ONNX dynamic int8, or TF.js float16 weights.
- `predictBatch([{{ question, context }}, ...])` answers many pairs, sharing model calls.
- `start`/`end` count Unicode code points (as Python does); `startUtf16`/`endUtf16` index the JS
  string: `context.slice(a.startUtf16, a.endUtf16) === a.text`.
- Long contexts are cut into 384-token windows with a 128-token stride; answers are at most 15 tokens;
  decoding is the transformers question-answering pipeline's.
- Every model file is checked against the sha256 in `model/manifest.json` before it is loaded; a
  mismatch throws `IntegrityError`.

Install: `npm install {name}`. onnxruntime-node's own install script downloads optional CUDA
libraries from outside the npm registry on Linux x64; where only the registry is reachable, install
with `ONNXRUNTIME_NODE_INSTALL=skip` (the CPU runtime is inside the npm package). This package itself
has no install scripts.

`runtime: 'savedmodel'` and TF.js' `tensorflow` backend need the optional peer `npm install {tfjs_node}`.
Its install script downloads libtensorflow from storage.googleapis.com; where only the npm registry is
reachable, install it with `--ignore-scripts` and build its addon with qaport's
`js/node/build_tfjs_node.py --package node_modules/@tensorflow/tfjs-node`, which uses the libtensorflow of
the CPU-only pip `tensorflow-cpu==2.19.0` wheel (no CUDA plugins: the console stays silent).

## Validation (answers compared with the Keras reference)

| runtime | quantized | format | validated in | agree (+ ties) |
|---|---|---|---|---|
{table}

## In a browser

The same import resolves to the browser entry (`client/browser.js`, through the `browser` export
condition that esbuild, Vite and webpack apply). It runs {web or "no runtime of this package"} on
onnxruntime-web (`backend: 'wasm'` or `'webgpu'`) or TensorFlow.js (`'wasm'`, `'webgl'`, `'webgpu'`,
`'cpu'`), with the same options, answers and errors. Everything comes from the app's own origin:

```sh
npm install {name}
npx qaport-web-assets public/      # public/model/ (sha256 checked) and public/qaport-wasm/ (runtimes' wasm)
npx esbuild app.js --bundle --format=esm --splitting --outdir=public/ --platform=browser
```

```js
import {{ QAClient }} from '{name}';
const qa = await QAClient.fromOptions({{ runtime: 'onnx', quantized: true }}); // fetches model/ beside the page
const a = await qa.predict(question, context);
context.slice(a.startUtf16, a.endUtf16); // === a.text: highlight it
```

`modelUrl` (default `'model/'`) and `wasmPaths` (default `'qaport-wasm/'`) move them elsewhere on the origin.
Each file is checked against its sha256 with WebCrypto, which needs a secure context (https or
localhost). wasm uses every core when the page is cross-origin isolated (serve it with
`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`), one otherwise.

The directory `model/` is also a transformers.js local model (`config.json`, `tokenizer.json`,
`onnx/model.onnx`, `onnx/model_quantized.onnx`).
"""


def stage_package(
    root: Path,
    manifest: dict[str, Any],
    report: dict[str, Any],
    dest: Path,
    name: str,
    version: str,
    formats: list[str] | None = None,
) -> Path:
    """The package tree in ``dest`` (files copied, not linked: npm pack follows no symlinks)."""
    formats = formats if formats is not None else [f for f in SHIPPABLE if f in manifest["formats"]]
    trimmed = trimmed_manifest(manifest, report, name, version, formats)
    model = dest / MODEL_DIR
    entries = list(trimmed["files"]) + [e for f in trimmed["formats"].values() for e in f["files"]]
    for entry in entries:
        src = safe_relative(root, entry["path"])
        out = model / entry["path"]
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out)
    write_json_atomic(model / "manifest.json", trimmed)
    for f in SHIPPED_JS:
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(JS_DIR / f, dest / f)
    (dest / "README.md").write_text(_readme(name, version, trimmed), encoding="utf-8")
    write_json_atomic(dest / "package.json", _package_json(name, version, manifest, formats))
    return dest
