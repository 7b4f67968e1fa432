"""Peak resident memory of this process and its children, sampled in a thread.

``ru_maxrss`` only grows, so it cannot give a per-format peak; sampling can.
"""

from __future__ import annotations

import threading
from types import TracebackType

import psutil


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


class PeakMemory:
    """``with PeakMemory() as peak: ...; peak.bytes``"""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.bytes = 0
        self._stop = threading.Event()
        self._proc = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.bytes = max(self.bytes, tree_rss(self._proc))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self.bytes = tree_rss(self._proc)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.bytes = max(self.bytes, tree_rss(self._proc))
