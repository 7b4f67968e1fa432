"""The Runner contract (after Polygraphy): cheap to construct, heavy work in ``activate``.

Subclasses implement ``_activate`` / ``_infer`` / ``_deactivate`` (and may override ``_timed`` and
``_answer`` when the timing must happen inside another process). Public methods check inputs and
return logical outputs (start_logits, end_logits) whatever the format calls them.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt
import psutil

from qaport import decode
from qaport.architectures import ALL_INPUTS, DEFAULT_INPUTS, TOKEN_TYPE_IDS
from qaport.errors import QaportError

Logits = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]
Ints = npt.NDArray[np.int32]


def record_inputs(record: dict[str, Any]) -> tuple[str, ...]:
    """The inputs a format takes, from its manifest record's signature (older manifests: DistilBERT's two)."""
    signature = record.get("signature", {}).get("inputs", {})
    return tuple(n for n in ALL_INPUTS if n in signature) or DEFAULT_INPUTS


class RunnerError(QaportError, RuntimeError):
    """A runtime that failed while loading or running; the message is the one-line reason."""


class RuntimeUnavailable(QaportError, RuntimeError):
    """The runtime is not installed here (e.g. no ``node``): the target is ``not_run``, not failed."""


class Runner(ABC):
    runtime: str = "?"

    def __init__(self, name: str, root: Path, record: dict[str, Any], tokenizer_path: Path) -> None:
        self.name = name
        self.root = root
        self.record = record
        self.tokenizer_path = tokenizer_path
        self.load_seconds = 0.0
        self.fixed_length: int | None = None
        self.inputs: tuple[str, ...] = record_inputs(record)
        self._tokenizer: Any = None
        # SQuAD 2.0: answer() may return the null answer (validation sets it from its settings)
        self.handle_impossible_answer = False

    @property
    def uses_token_types(self) -> bool:
        """Whether the model takes token_type_ids (BERT, MobileBERT, ALBERT), so callers must feed them."""
        return TOKEN_TYPE_IDS in self.inputs

    @property
    def software_renderer(self) -> str | None:
        """The renderer's name when this runtime computes on a software-rendered GPU (a browser backend on
        SwiftShader), else None."""
        return None

    # -- lifecycle -------------------------------------------------------------------------
    def activate(self) -> None:
        start = time.perf_counter()
        self._activate()
        self.load_seconds = time.perf_counter() - start

    def deactivate(self) -> None:
        self._deactivate()

    def __enter__(self) -> Runner:
        self.activate()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.deactivate()

    # -- inference -------------------------------------------------------------------------
    def infer(self, input_ids: Ints, attention_mask: Ints, token_type_ids: Ints | None = None) -> Logits:
        """Logits of a batch. ``token_type_ids`` is required when the model takes them (``uses_token_types``)
        and ignored when it does not (DistilBERT, RoBERTa), so one caller serves every architecture."""
        ids, mask, types = self._feeds(input_ids, attention_mask, token_type_ids)
        start, end = self._infer(ids, mask, types)
        width = input_ids.shape[1]
        return np.asarray(start, np.float32)[:, :width], np.asarray(end, np.float32)[:, :width]

    def timed(
        self,
        input_ids: Ints,
        attention_mask: Ints,
        warmup: int,
        runs: int,
        *,
        token_type_ids: Ints | None = None,
    ) -> list[float]:
        """Milliseconds of the model call alone, after ``warmup`` untimed calls."""
        ids, mask, types = self._feeds(input_ids, attention_mask, token_type_ids)
        return self._timed(ids, mask, warmup, runs, types)

    def _feeds(self, input_ids: Ints, attention_mask: Ints, token_type_ids: Ints | None) -> tuple[Any, Any, Any]:
        if input_ids.shape != attention_mask.shape or input_ids.ndim != 2:
            msg = f"input_ids {input_ids.shape} and attention_mask {attention_mask.shape} must be equal 2-D shapes"
            raise ValueError(msg)
        types = None
        if self.uses_token_types:
            if token_type_ids is None:
                msg = (
                    f"{self.name} takes token_type_ids ({', '.join(self.inputs)}); pass them "
                    "(decode.encode gives them per window)"
                )
                raise ValueError(msg)
            if token_type_ids.shape != input_ids.shape:
                msg = f"token_type_ids {token_type_ids.shape} must have the shape of input_ids {input_ids.shape}"
                raise ValueError(msg)
            types = token_type_ids.astype(np.int32)
        return self._pad(input_ids.astype(np.int32), attention_mask.astype(np.int32), types)

    def answer(self, question: str, context: str, warmup: int = 0, runs: int = 1) -> tuple[decode.Answer, list[float]]:
        """End to end per question (tokenise, infer, decode), timed in the runtime's own process."""
        return self._answer(question, context, warmup, runs)

    def peak_rss_bytes(self) -> int:
        return int(psutil.Process().memory_info().rss)

    # -- defaults --------------------------------------------------------------------------
    def _pad(self, ids: Ints, mask: Ints, types: Ints | None = None) -> tuple[Any, Any, Any]:
        if self.fixed_length is None or ids.shape[1] == self.fixed_length:
            return ids, mask, types
        if ids.shape[1] > self.fixed_length:
            msg = f"{ids.shape[1]} tokens do not fit the fixed length {self.fixed_length}"
            raise ValueError(msg)
        pad = ((0, 0), (0, self.fixed_length - ids.shape[1]))
        return np.pad(ids, pad), np.pad(mask, pad), (np.pad(types, pad) if types is not None else None)

    def _timed(self, ids: Any, mask: Any, warmup: int, runs: int, types: Any = None) -> list[float]:
        for _ in range(warmup):
            self._infer(ids, mask, types)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            self._infer(ids, mask, types)
            times.append((time.perf_counter() - start) * 1000.0)
        return times

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        return self._tokenizer

    def _answer(self, question: str, context: str, warmup: int, runs: int) -> tuple[decode.Answer, list[float]]:
        result = None
        times = []
        for i in range(warmup + runs):
            start = time.perf_counter()
            result = self._decode_answer(question, context)
            if i >= warmup:
                times.append((time.perf_counter() - start) * 1000.0)
        assert result is not None
        return result, times

    def _decode_answer(self, question: str, context: str) -> decode.Answer:
        """decode.answer over this runner; models with token types get them (``token_types=True``)."""
        null = self.handle_impossible_answer
        if self.uses_token_types:
            return decode.answer(  # type: ignore[call-arg,arg-type,unused-ignore]
                self.infer, self.tokenizer, question, context, token_types=True, handle_impossible_answer=null
            )
        return decode.answer(self.infer, self.tokenizer, question, context, handle_impossible_answer=null)

    @abstractmethod
    def _activate(self) -> None: ...

    @abstractmethod
    def _infer(self, ids: Any, mask: Any, types: Any = None) -> Logits:
        """``types`` is the token_type_ids batch when the model takes them, else None."""

    def _deactivate(self) -> None:
        return None


def logical(outputs: dict[str, Any], output_names: dict[str, str]) -> Logits:
    """Map a format's own output names to (start_logits, end_logits); never by position."""
    by_logical = {output_names[k]: v for k, v in outputs.items() if k in output_names}
    missing = {"start_logits", "end_logits"} - set(by_logical)
    if missing:
        msg = f"outputs {sorted(outputs)} do not provide {sorted(missing)} through the manifest map {output_names}"
        raise RunnerError(msg)
    return np.asarray(by_logical["start_logits"]), np.asarray(by_logical["end_logits"])
