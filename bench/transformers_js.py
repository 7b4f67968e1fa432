"""transformers.js (``@huggingface/transformers``) as a peer system, and its decoding rules replayed.

A Node.js user choosing a QA runtime would install transformers.js, so the benchmark runs it on the
same artifact directory (dtype fp32: onnx/model.onnx, q8: onnx/model_quantized.onnx) in one
long-lived Node.js process (``transformers_js.mjs``), timed end to end there. Its pipeline follows
other rules than transformers' Python pipeline (docs/npm-package.md): one input truncated to 512
tokens (no windows), no maximum answer length, every special token masked, the answer decoded from
tokens (no word alignment, no offsets), equal answers not merged. ``rules_span`` replays those rules
on given logits, so the benchmark can tell "the rules differ" from "the answers differ".
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qaport import decode
from qaport.javascript import JS_DIR
from validate.runners.base import RunnerError, RuntimeUnavailable

PACKAGE = "@huggingface/transformers"
SCRIPT = JS_DIR / "bench" / "transformers_js.mjs"
LAYOUT = ("config.json", "tokenizer.json", "tokenizer_config.json")
MODEL_FILE = {"fp32": "onnx/model.onnx", "int8": "onnx/model_quantized.onnx"}


def unavailable(node_dir: Path, root: Path, precision: str) -> str | None:
    """Why transformers.js cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not (node_dir / "node_modules" / PACKAGE / "package.json").is_file():
        return f"{PACKAGE} is not installed in {node_dir} (nox -s bench installs it: npm ci --ignore-scripts)"
    missing = [f for f in (*LAYOUT, MODEL_FILE["int8" if precision == "int8" else "fp32"]) if not (root / f).is_file()]
    return f"the artifact directory lacks {', '.join(missing)} (transformers.js layout)" if missing else None


def squash(text: str) -> str:
    """transformers.js decodes its answer from tokens: compare case- and whitespace-insensitively."""
    return "".join(text.lower().split())


def rules_span(
    ids: list[int], start: npt.ArrayLike, end: npt.ArrayLike, special: set[int], sep: int
) -> tuple[int, int, float]:
    """transformers.js 4.x's QA decoding (pipelines/question-answering.js) on one window's logits.

    Every token up to the first [SEP] and every special token ([UNK] included) is masked to -inf
    except [CLS]; softmax; [CLS] zeroed; the best span with start <= end, of any length, first in
    row-major order among equal scores. Returns (start token, end token, score).
    """
    n = len(ids)
    s = np.asarray(start, dtype=np.float64)[:n].copy()
    e = np.asarray(end, dtype=np.float64)[:n].copy()
    sep_index = ids.index(sep)
    masked = [i for i in range(1, n) if i <= sep_index or ids[i] in special]
    s[masked] = -np.inf
    e[masked] = -np.inf
    ps = np.exp(s - s.max())
    ps /= ps.sum()
    pe = np.exp(e - e.max())
    pe /= pe.sum()
    ps[0] = pe[0] = 0.0
    spans = np.triu(np.outer(ps, pe))
    best = int(np.argmax(spans))
    return best // n, best % n, float(spans.ravel()[best])


class TransformersJsAnswerer:
    """One node process running transformers.js' pipeline; answers are timed inside it."""

    def __init__(self, root: Path, node_dir: Path, dtype: str, timeout: float = 600.0) -> None:
        node = shutil.which("node")
        if node is None:
            msg = "node is not on PATH"
            raise RuntimeUnavailable(msg)
        cmd = [node, str(SCRIPT), "--dir", str(root.resolve()), "--dtype", dtype, "--packages", str(node_dir)]
        # stderr to a file: a pipe nobody reads could fill up and block node
        self._err = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed in deactivate)
        self._proc: Any = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err, text=True, cwd=node_dir
        )
        ready = self._read()
        if ready.get("event") != "ready":
            msg = f"transformers.js did not start: {ready.get('error')}; stderr: {self._stderr()}"
            raise RunnerError(msg)
        self.load_seconds = float(ready["load_ms"]) / 1000.0
        self.ready = {"versions": ready.get("versions", {}), "dtype": dtype}
        self._node = self  # the worker reads ``_node.ready`` into the entry's details

    def _read(self) -> dict[str, Any]:
        line = self._proc.stdout.readline()
        if not line:
            msg = f"transformers.js exited (code {self._proc.poll()}); stderr: {self._stderr()}"
            raise RunnerError(msg)
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _stderr(self) -> str:
        self._err.seek(0)
        return " | ".join(self._err.read().strip().splitlines()[-4:]) or "(empty)"

    def _request(self, req: dict[str, Any]) -> dict[str, Any]:
        self._proc.stdin.write(json.dumps(req) + "\n")
        self._proc.stdin.flush()
        reply = self._read()
        if not reply.get("ok"):
            msg = f"transformers.js: {reply.get('error')}"
            raise RunnerError(msg)
        return reply

    def answer(self, question: str, context: str, warmup: int, runs: int) -> tuple[decode.Answer, list[float]]:
        reply = self._request(
            {"op": "answer", "question": question, "context": context, "warmup": warmup, "runs": runs}
        )
        # no offsets: transformers.js returns the decoded text and its score only
        return decode.Answer(str(reply["answer"]), float(reply["score"]), -1, -1), list(reply["times_ms"])

    def peak_rss_bytes(self) -> int:
        return int(self._request({"op": "stats"})["peak_rss_bytes"])

    def deactivate(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.write(json.dumps({"op": "shutdown"}) + "\n")
            self._proc.stdin.flush()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._err.close()


REFERENCE = {"float32": "onnx", "int8": "onnx-int8"}  # our system on the same file, whose logits are replayed


def rules_check(
    entries: list[dict[str, Any]],
    questions: list[Any],
    root: Path,
    peers: dict[str, str],
    references: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Per transformers.js entry, ``rules``: on which short questions its rules and ours pick the same
    span (replayed on our logits of the same ONNX file), and whether its answers equal ours there.

    A difference where the rules disagree is by design (the reason is named); one where they agree,
    or where the replay does not reproduce transformers.js' answer, is not. ``references`` gives a peer
    that runs another file than ours (the usual q8 recipe) its own logits: {peer id: {"id", "logits"}}.
    """
    from tokenizers import Tokenizer

    by_id = {e["id"]: e for e in entries}
    tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
    special = {i for i, tok in tokenizer.get_added_tokens_decoder().items() if tok.special}
    sep, unk = tokenizer.token_to_id("[SEP]"), tokenizer.token_to_id("[UNK]")
    for e in entries:
        if e["id"] not in peers or e.get("status") != "ok":
            continue
        ref = (references or {}).get(e["id"]) or by_id.get(REFERENCE[peers[e["id"]]], {})
        logits = ref.get("logits", {})
        rec: dict[str, Any] = {"reference": ref.get("id"), "questions": 0, "rules_agree": 0, "equal_where_agree": 0}
        rec.update(replay_reproduces=0, differences=[])
        for q in questions:
            got = e["answers"].get(q.id)
            if q.cls != "short" or got is None or q.id not in logits or len(q.encoded.windows) != 1:
                continue
            ids = q.encoded.windows[0].input_ids
            start = np.asarray(logits[q.id]["start"], np.float32)
            end = np.asarray(logits[q.id]["end"], np.float32)
            a, b, _ = rules_span(ids, start[0], end[0], special, sep)
            replay = tokenizer.decode(ids[a : b + 1], skip_special_tokens=True)
            ours = decode.decode(q.encoded, start, end, q.context).text
            agree = squash(replay) == squash(ours)
            equal = squash(got["text"]) == squash(ours)
            rec["questions"] += 1
            rec["rules_agree"] += agree
            rec["equal_where_agree"] += agree and equal
            rec["replay_reproduces"] += squash(replay) == squash(got["text"])
            if not equal:
                if squash(replay) != squash(got["text"]):
                    reason = "unexplained (the replay of its rules gives another span)"
                elif agree:
                    reason = "unexplained (the rules agree, the answers do not)"
                elif b - a + 1 > decode.MAX_ANSWER_LEN:
                    reason = f"no maximum answer length ({b - a + 1} tokens; ours: {decode.MAX_ANSWER_LEN})"
                elif unk in ids:
                    reason = "[UNK] tokens masked as special tokens"
                else:
                    reason = "no word alignment / no merging of equal answers"
                rec["differences"].append({"id": q.id, "ours": ours, "theirs": got["text"], "reason": reason})
        e["rules"] = rec
