"""The one CLI boundary every qaport entry point runs through (pypa/build's habit).

It sets the environment the toolchain needs before TensorFlow is imported, keeps native libraries'
chatter (TensorFlow's CUDA probe, grappler, absl, onnxruntime) out of the console and in a log file,
turns every :class:`~qaport.errors.QaportError` into one ``ERROR ...`` line and its exit code, and
turns Ctrl-C into exit code 130 with a line saying what was left untouched. Any other exception is a bug:
its traceback is printed, then one line saying so and what to attach to a report (exit 1).

Native code writes to file descriptor 2 directly, so the log takes fd 2 while Python's ``sys.stderr``
keeps the console: tracebacks, ``ERROR`` lines and argparse usage still reach the user.
``QAPORT_VERBOSE=1`` keeps everything on the console; ``QAPORT_LOG_DIR`` moves the log.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

# Set before TensorFlow or transformers is imported (they read them at import time).
ENVIRONMENT = {
    "TF_USE_LEGACY_KERAS": "1",  # transformers' TF models need Keras 2
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TRANSFORMERS_VERBOSITY": "error",  # no "TF classes are deprecated" banner, no load summaries
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


class Main(Protocol):
    def __call__(self, argv: list[str] | None = None) -> int: ...


def set_environment() -> None:
    for key, value in ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def log_path(name: str) -> Path:
    root = Path(os.environ.get("QAPORT_LOG_DIR") or Path(tempfile.gettempdir()) / "qaport-logs")
    root.mkdir(parents=True, exist_ok=True)
    return root / f"{name}.log"


@contextlib.contextmanager
def quiet_native_output(name: str) -> Iterator[Path | None]:
    """Send fd 2 (native libraries, child processes that inherit it) and library logging to a log file;
    put both back on exit (the log file stays)."""
    if os.environ.get("QAPORT_VERBOSE") == "1":
        yield None
        return
    try:
        path = log_path(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError:
        yield None  # no writable log place: stay verbose rather than fail the command
        return
    sys.stderr.flush()
    original = sys.stderr
    console = os.dup(2)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stderr = open(os.dup(console), "w", buffering=1, encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
    try:
        _log_libraries(path)
        yield path
    finally:
        sys.stderr.flush()
        sys.stderr.close()
        sys.stderr = original
        os.dup2(console, 2)
        os.close(console)


def _log_libraries(path: Path) -> None:
    # Library warnings (onnxruntime's quantiser logs on the root logger, tf/absl on theirs) go to the log.
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.captureWarnings(True)
    warnings.simplefilter("default")


def entry_point(name: str, *, interrupted: str = "interrupted") -> Callable[[Main], Main]:
    """Wrap ``main(argv) -> exit code``: environment, quiet console, one ERROR line, Ctrl-C."""

    def wrap(main: Main) -> Main:
        @functools.wraps(main)
        def run(argv: list[str] | None = None) -> int:
            from qaport.errors import QaportError

            set_environment()
            # Ctrl-C must interrupt (and clean up) even when started from a shell that ignores SIGINT
            # for background jobs, which Python would otherwise inherit.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            with quiet_native_output(name) as log:
                try:
                    return main(argv)
                except KeyboardInterrupt:
                    print(f"ERROR: {interrupted}", file=sys.stderr)
                    return 130
                except QaportError as exc:
                    print(f"ERROR: {exc}", file=sys.stderr)
                    if log is not None and exc.exit_code == 1:
                        print(f"(library output of this run: {log})", file=sys.stderr)
                    return exc.exit_code
                except Exception as exc:  # an unexpected exception is a bug: show it whole, say where to report
                    traceback.print_exc(file=sys.stderr)
                    attach = f" and {log}" if log is not None else ""
                    what = f"{name} stopped on an unexpected {type(exc).__name__}"
                    print(
                        f"BUG: {what}; this is a qaport bug, not your input: please report it as an issue "
                        f"of the qaport repository with the command, this traceback{attach}",
                        file=sys.stderr,
                    )
                    return 1

        return run

    return wrap
