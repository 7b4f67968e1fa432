"""Node.js runtimes (onnxruntime-node, TF.js on wasm/cpu/libtensorflow, the SavedModel on tfjs-node),
each in one long-lived Node.js process running js/node/runner.mjs.

Inference, end-to-end answers (tokenised and decoded in JavaScript) and their timings all happen
inside Node; Python only sends requests and compares the replies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from validate.runners.base import Logits, Runner, RunnerError, RuntimeUnavailable

T = TypeVar("T")
TAIL_LINES = 4  # of node's stderr, carried in the one-line failure reason of the report


def one_line(exc: BaseException, tail: list[str]) -> str:
    """A node failure as one line: what happened, then the last lines node wrote to stderr."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lines = [ln.strip()[:120] for ln in tail if ln.strip()][-TAIL_LINES:]
    return f"{first}; node stderr tail: {' | '.join(lines) if lines else '(empty)'}"


class NodeRunner(Runner):
    def __init__(
        self,
        *args: Any,
        runtime_kind: str,
        runtime_id: str,
        backend: str | None = None,
        timeout: float = 300.0,
        host: str = "node",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.host = host  # node: js/node/runner.mjs; browser: js/browser/runner.mjs (a page of headless Chromium)
        self.runtime_kind = runtime_kind  # what runtimes.mjs loads: "tfjs" | "onnx" | "savedmodel"
        self.backend = backend  # TF.js backend of a "tfjs" kind
        self.timeout = timeout
        self.runtime = runtime_id  # onnxruntime-node | tfjs-wasm | tfjs-cpu | tfjs-node
        self._node: Any = None

    def _activate(self) -> None:
        from validate.node_bridge import NodeRuntime, NodeRuntimeError, NodeUnavailableError

        inputs = self.record.get("signature", {}).get("inputs", {})
        self._node = NodeRuntime(
            runtime=self.runtime_kind,
            model=self.root / self.record["main_file"],
            backend=self.backend if self.runtime_kind == "tfjs" or self.host == "browser" else None,
            tokenizer=self.tokenizer_path,
            output_map=self.record["output_names"],
            timeout=self.timeout,
            host=self.host,
            input_dtypes={k: v["dtype"] for k, v in inputs.items() if isinstance(v, dict) and "dtype" in v},
            manifest=self.root / "manifest.json" if (self.root / "manifest.json").is_file() else None,
        )
        try:
            self._node.start()
        except NodeUnavailableError as exc:
            raise RuntimeUnavailable(str(exc)) from exc
        except NodeRuntimeError as exc:
            raise RunnerError(one_line(exc, self._node.stderr_tail())) from exc
        shape = self.record["signature"]["inputs"]["input_ids"]["shape"]
        self.fixed_length = shape[1] if len(shape) == 2 and isinstance(shape[1], int) and shape[1] > 0 else None

    def _call(self, fn: Callable[[], T]) -> T:
        """A crashed or hung node (killed after the timeout) fails this format only, with its stderr tail."""
        from validate.node_bridge import NodeRequestError, NodeRuntimeError

        try:
            return fn()
        except NodeRequestError:
            raise
        except NodeRuntimeError as exc:
            raise RunnerError(one_line(exc, self._node.stderr_tail())) from exc

    def _infer(self, ids: Any, mask: Any, types: Any = None) -> Logits:
        start, end, _ = self._call(lambda: self._node.infer(ids, mask, token_type_ids=types))
        return start, end

    def _timed(self, ids: Any, mask: Any, warmup: int, runs: int, types: Any = None) -> list[float]:
        _, _, times = self._call(lambda: self._node.infer(ids, mask, warmup=warmup, runs=runs, token_type_ids=types))
        return list(times)

    def _answer(self, question: str, context: str, warmup: int, runs: int) -> tuple[Any, list[float]]:
        from qaport.decode import Answer

        null = self.handle_impossible_answer
        reply, times = self._call(
            lambda: self._node.answer(question, context, warmup=warmup, runs=runs, handle_impossible_answer=null)
        )
        return Answer(reply["text"], float(reply["score"]), int(reply["start"]), int(reply["end"])), list(times)

    def answer_with_logits(self, question: str, context: str) -> tuple[Any, dict[str, Any]]:
        """The answer of one end-to-end run in JavaScript, with the batch it fed the model and the logits."""
        from qaport.decode import Answer

        null = self.handle_impossible_answer
        reply, arrays = self._call(
            lambda: self._node.answer_with_logits(question, context, handle_impossible_answer=null)
        )
        return Answer(reply["text"], float(reply["score"]), int(reply["start"]), int(reply["end"])), arrays

    @property
    def software_renderer(self) -> str | None:
        ready = self._node.ready if self._node is not None else {}
        return str(ready.get("gpu_renderer") or "software") if ready.get("software_renderer") else None

    def peak_rss_bytes(self) -> int:
        stats = self.stats()
        return int(stats.get("peak_rss_bytes") or stats.get("rss_bytes") or 0)

    def stats(self) -> dict[str, Any]:
        return dict(self._call(self._node.stats))

    def _deactivate(self) -> None:
        if self._node is not None:
            self._node.close()
            self._node = None
