"""The npm client's TypeScript declarations: each entry declares what it exports, and a consumer's code
type-checks against both entries with the TypeScript compiler (a devDependency of js/).

The .d.ts files are hand-written (the client is plain JavaScript), so a regex check guards the export list
and ``tsc --strict`` guards the shapes: a consumer written against the documented API must compile, and a
misuse (a number as a question, a Node-only runtime in the browser) must not.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import NODE_DIR, ROOT, needs_node

CLIENT = ROOT / "js" / "client"
TSC = NODE_DIR / "node_modules" / "typescript" / "bin" / "tsc"

CONSUMER = {
    "index.d.ts": """
import QAClient, { Answer, Answering, DecodeError, IntegrityError, QAError, MAX_LENGTH } from './index.js';
async function main(): Promise<void> {
  const qa = await QAClient.fromOptions({ runtime: 'onnx', quantized: true });
  const a: Answer = await qa.predict('Who?', 'Denver Broncos won.');
  const top: Answer | Answer[] = await qa.predict('Who?', 'Denver Broncos won.', { topK: 3 });
  const many: Answer[] = await qa.predictBatch([{ question: 'Who?', context: 'Denver won.' }]);
  const runtime: string = qa.info.runtimeId;
  const asAnswering: Answering = qa;
  console.log(a.text.slice(a.startUtf16, a.endUtf16), top, many, runtime, asAnswering, MAX_LENGTH);
  for (const E of [QAError, IntegrityError, DecodeError]) console.log(new E('x') instanceof Error);
  await qa.dispose();
}
main();
""",
    "browser.d.ts": """
import QAClient, { Answer, Answering, DecodeError, DEFAULT_MODEL_URL, DEFAULT_WASM_PATHS } from './browser.js';
async function main(): Promise<void> {
  const qa = await QAClient.fromOptions({
    runtime: 'onnx', backend: 'wasm', modelUrl: DEFAULT_MODEL_URL, wasmPaths: DEFAULT_WASM_PATHS,
  });
  const a: Answer = await qa.predict('Who?', 'Denver Broncos won.');
  const items = [{ question: 'Who?', context: 'Denver won.' }];
  const many: Answer[] | Answer[][] = await qa.predictBatch(items, { topK: 2 });
  const threads: number | null = qa.info.threads;
  const asAnswering: Answering = qa;
  console.log(a.score, many, threads, asAnswering, new DecodeError('x').message);
  await qa.dispose();
}
main();
""",
}
# each must fail to compile against its entry: the declarations are not so loose that anything passes
MISUSE = {
    "index.d.ts": "import QAClient from './index.js';\nQAClient.fromOptions().then((qa) => qa.predict(42, 'c'));\n",
    "browser.d.ts": "import QAClient from './browser.js';\nQAClient.fromOptions({ runtime: 'savedmodel' });\n",
}


@pytest.mark.parametrize(("entry", "types"), [("index.js", "index.d.ts"), ("browser.js", "browser.d.ts")])
def test_types_declare_every_export(entry: str, types: str) -> None:
    """Each entry's .d.ts declares what it exports (a cheap guard against the two drifting apart)."""
    js = (CLIENT / entry).read_text()
    dts = (CLIENT / types).read_text()

    def reexported(text: str) -> set[str]:
        return {n.strip() for m in re.findall(r"^export (?:type )?\{([^}]+)\} from", text, re.M) for n in m.split(",")}

    exported = set(re.findall(r"^export (?:class|const|function|async function) (\w+)", js, re.M))
    exported |= {n.strip() for m in re.findall(r"^export const \{([^}]+)\}", js, re.M) for n in m.split(",")}
    exported |= reexported(js)
    declared = set(re.findall(r"^export (?:declare )?(?:class|const|interface|type) (\w+)", dts, re.M)) | reexported(
        dts
    )
    assert exported, f"no exports found in {entry}"
    assert exported <= declared, exported - declared
    shared = (CLIENT / "qaclient.js").read_text()
    assert re.search(r"\bfromOptions\(", js)
    for method in ("fromOptions", "predict", "predictBatch", "dispose"):
        assert re.search(rf"\b{method}\(", js + shared), method


def _tsc(tmp_path: Path, types: str, source: str) -> subprocess.CompletedProcess[str]:
    """Type-check ``source`` as a consumer of ``types`` (copied beside it with the other declarations)."""
    tmp_path.mkdir()
    for dts in CLIENT.glob("*.d.ts"):
        (tmp_path / dts.name).write_text(dts.read_text())
    (tmp_path / "consumer.ts").write_text(source)
    args = ["--noEmit", "--strict", "--target", "es2022", "--lib", "es2022,dom"]
    args += ["--module", "nodenext", "--moduleResolution", "nodenext"]
    return subprocess.run(
        ["node", str(TSC), *args, str(tmp_path / "consumer.ts")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@needs_node
@pytest.mark.node
@pytest.mark.parametrize("types", sorted(CONSUMER))
def test_a_consumer_type_checks_against_each_entry(types: str, tmp_path: Path) -> None:
    ok = _tsc(tmp_path / "ok", types, CONSUMER[types])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = _tsc(tmp_path / "bad", types, MISUSE[types])
    assert bad.returncode != 0 and "error TS2" in bad.stdout, bad.stdout + bad.stderr
