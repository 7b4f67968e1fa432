"""ONNX (float32 and int8) in onnxruntime (Python)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from validate.runners.base import Logits, Runner, RunnerError, logical

ORT_DTYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}


class OnnxRuntimeRunner(Runner):
    runtime = "onnxruntime"

    def _activate(self) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(os.environ.get("QAPORT_ORT_THREADS", "0")) or (os.cpu_count() or 1)
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        path = self.root / self.record["main_file"]
        self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name: ORT_DTYPES.get(i.type, np.int64) for i in self._session.get_inputs()}
        self._outputs = [o.name for o in self._session.get_outputs()]
        self.inputs = tuple(self._inputs)
        seq = self._session.get_inputs()[0].shape[1]
        self.fixed_length = seq if isinstance(seq, int) else None

    def _infer(self, ids: Any, mask: Any, types: Any = None) -> Logits:
        given = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        missing = [name for name in self._inputs if given.get(name) is None]
        if missing:
            msg = f"the ONNX model takes {', '.join(self._inputs)}; {', '.join(missing)} not given"
            raise RunnerError(msg)
        feeds = {name: given[name].astype(dtype) for name, dtype in self._inputs.items()}
        values = self._session.run(self._outputs, feeds)
        return logical(dict(zip(self._outputs, values, strict=True)), self.record["output_names"])

    def _deactivate(self) -> None:
        self._session = None
