"""The disk filling up during a conversion: the previous artifacts stay, no staging is left.

Set QAPORT_RELIABILITY_DIR to an already converted default-model directory to skip the conversion.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import (
    copy_artifacts,
    error_lines,
    run_cli,
    tree,
)


# =======================================================================================================
# 4. Faults. Covered (test_convert): SIGTERM, SIGINT and SIGKILL midway leave the previous directory
#    intact, and the next run removes SIGKILL's staging directory. Added: the disk filling up for real.
# =======================================================================================================
def _mount_tmpfs(path: Path, size: int) -> None:
    path.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {proc.stderr.strip()}")


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("headroom", [6_000_000, 40_000], ids=["fills-during-tfjs", "fills-before-any-format"])
def test_disk_full_leaves_previous_artifacts_and_no_staging(artifacts: Path, tmp_path: Path, headroom: int) -> None:
    """A real small file system (tmpfs) holding the previous artifacts, with ``headroom`` bytes free.

    With 6 MB the SavedModel fits and the TF.js files do not; with 40 kB not even tokenizer.json does.
    """
    small = tmp_path / "small"
    size = sum(p.stat().st_size for p in artifacts.rglob("*") if p.is_file()) + 1_000_000
    _mount_tmpfs(small, size + headroom)
    try:
        dest = copy_artifacts(artifacts, small / "dest")
        (small / "pad").write_bytes(b"\0" * max(0, shutil.disk_usage(small).free - headroom))
        before = tree(dest)
        proc = run_cli("convert", "--out", str(dest), timeout=900)
        assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
        (line,) = error_lines(proc.stderr)
        print(f"\ndisk full ({headroom} bytes free): {line}")
        assert "No space left on device" in line and str(dest) in line, line
        assert "Traceback" not in proc.stderr
        assert tree(dest) == before
        assert sorted(p.name for p in small.iterdir()) == ["dest", "pad"]  # no staging, no half-swapped dir
    finally:
        subprocess.run(["umount", str(small)], check=False)
