"""Artifacts appear whole or not at all.

Everything is written into a hidden staging directory beside the destination; only a complete
conversion is swapped into place (an atomic ``renameat2(RENAME_EXCHANGE)`` on Linux, so there is no
moment without a complete directory). Errors, Ctrl-C and SIGTERM remove the staging directory; a
staging directory left by SIGKILL is removed by the next run. A full disk is one :class:`DiskFull`
line, not a traceback.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from qaport.errors import QaportError

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class Interrupted(QaportError):
    exit_code = 130


class DiskFull(QaportError):
    """The staging directory's file system ran out of space (or a file-size limit was hit)."""

    exit_code = 1


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _disk_full(exc: BaseException | None) -> int | None:
    """The errno if ``exc`` (or what caused it) is a full disk; Rust libraries (tokenizers) raise a plain
    ``Exception("No space left on device (os error 28)")`` instead of an OSError."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
            return exc.errno
        for code in _DISK_FULL:
            if f"(os error {code})" in str(exc) or os.strerror(code) in str(exc):
                return code
        exc = exc.__cause__ or exc.__context__
    return None


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the kernel or libc can't."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def staging_prefix(dest: Path) -> str:
    return f".{dest.name}.staging-"


def remove_stale(dest: Path) -> list[Path]:
    """Staging directories of killed runs (their pid is gone)."""
    removed: list[Path] = []
    if not dest.parent.is_dir():
        return removed
    for p in dest.parent.glob(staging_prefix(dest) + "*"):
        pid = p.name.rsplit("-", 2)[-2] if p.name.count("-") >= 2 else ""
        alive = pid.isdigit() and Path(f"/proc/{pid}").exists() and int(pid) != os.getpid()
        if not alive:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def swap_into_place(staging: Path, dest: Path) -> None:
    """Move a complete staging directory to ``dest``, replacing it atomically if it exists."""
    staging.chmod(0o755)  # mkdtemp made it private
    if dest.exists():
        if _exchange(staging, dest):
            shutil.rmtree(staging)
            return
        old = dest.with_name(f"{staging.name}-old")
        os.replace(dest, old)
        os.replace(staging, dest)
        shutil.rmtree(old)
    else:
        os.replace(staging, dest)


@contextlib.contextmanager
def staged(dest: Path) -> Iterator[Path]:
    """Yield an empty staging directory; remove it unless the caller published it."""
    dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(dest)
    staging = Path(tempfile.mkdtemp(prefix=f"{staging_prefix(dest)}{os.getpid()}-", dir=dest.parent))

    def on_term(signum: int, frame: FrameType | None) -> None:
        msg = f"interrupted by signal {signum}; {dest} left as it was"
        raise Interrupted(msg)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield staging
    except Exception as exc:
        code = _disk_full(exc)
        if code is None:
            raise
        filename = getattr(exc, "filename", None)
        where = f" while writing {Path(filename).name}" if filename else ""
        msg = (
            f"{os.strerror(code)} in {dest.parent}{where}; {dest} was left as it was: "
            "free some space there (or pass --out on a larger disk) and convert again"
        )
        raise DiskFull(msg) from exc
    finally:
        signal.signal(signal.SIGTERM, previous)
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
