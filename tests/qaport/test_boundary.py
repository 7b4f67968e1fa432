"""qaport.boundary: the one CLI boundary (environment, quiet console, one ERROR line, Ctrl-C)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT, error_lines, run_cli

# A stand-in entry point: native-style output on fd 2, Python logging, a warning, then an outcome.
SCRIPT = textwrap.dedent(
    """
    import logging, os, sys, warnings
    from qaport.errors import UsageError
    from qaport.boundary import entry_point

    @entry_point("probe", interrupted="interrupted; nothing was written")
    def main(argv=None):
        os.write(2, b"E0000 cuda_dnn.cc Unable to register cuDNN factory\\n")  # what native code does
        logging.getLogger("root").warning("Please consider to run pre-processing before quantization")
        warnings.warn("TensorFlow and JAX classes are deprecated", FutureWarning, stacklevel=1)
        print("progress line", flush=True)
        print("TF_USE_LEGACY_KERAS=" + os.environ.get("TF_USE_LEGACY_KERAS", ""), flush=True)
        how = sys.argv[1]
        if how == "usage":
            raise UsageError("--formats names 'x'; available: onnx")
        if how == "ctrl-c":
            raise KeyboardInterrupt
        if how == "crash":
            raise RuntimeError("an unexpected bug")
        return 0

    sys.exit(main())
    """
)


def _probe(tmp_path: Path, how: str, **env: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "probe.py"
    script.write_text(SCRIPT)
    full_env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "QAPORT_LOG_DIR": str(tmp_path / "logs"), **env}
    return subprocess.run(
        [sys.executable, str(script), how], capture_output=True, text=True, env=full_env, timeout=120, check=False
    )


def test_native_and_library_chatter_goes_to_the_log_not_the_console(tmp_path: Path) -> None:
    proc = _probe(tmp_path, "ok")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["progress line", "TF_USE_LEGACY_KERAS=1"]  # environment set
    assert proc.stderr == ""
    log = (tmp_path / "logs" / "probe.log").read_text()
    assert "Unable to register cuDNN factory" in log
    assert "Please consider to run pre-processing" in log
    assert "TensorFlow and JAX classes are deprecated" in log


def test_verbose_keeps_everything_on_the_console(tmp_path: Path) -> None:
    proc = _probe(tmp_path, "ok", QAPORT_VERBOSE="1")
    assert proc.returncode == 0
    assert "Unable to register cuDNN factory" in proc.stderr


@pytest.mark.parametrize(
    ("how", "code", "line"),
    [
        ("usage", 2, "ERROR: --formats names 'x'; available: onnx"),
        ("ctrl-c", 130, "ERROR: interrupted; nothing was written"),
    ],
)
def test_errors_are_one_line_on_the_console(tmp_path: Path, how: str, code: int, line: str) -> None:
    proc = _probe(tmp_path, how)
    assert proc.returncode == code
    assert error_lines(proc.stderr) == [line]
    assert "cuDNN" not in proc.stderr and "Traceback" not in proc.stderr


def test_a_bug_still_shows_its_traceback(tmp_path: Path) -> None:
    proc = _probe(tmp_path, "crash")
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "RuntimeError: an unexpected bug" in proc.stderr
    # ... and one line after it saying it is a bug and where to report it, with the log to attach
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("BUG: ") and "unexpected RuntimeError" in last and "report it as an issue" in last, last
    assert "qaport-logs" in last or "QAPORT_LOG_DIR" in last or ".log" in last, last


def test_every_entry_point_uses_the_boundary() -> None:
    """One boundary, not five hand-written copies of try/except and environment set-up."""
    entry_points = ["convert/cli.py", "publish/cli.py", "validate/cli.py", "validate/soak.py", "bench/cli.py"]
    for rel in entry_points:
        text = (ROOT / rel).read_text()
        assert "@entry_point(" in text, rel
        assert "except KeyboardInterrupt" not in text, rel
        assert 'os.environ.setdefault("TF_' not in text, rel


@pytest.mark.tf
def test_a_passing_conversion_prints_no_library_chatter(tmp_path: Path) -> None:
    proc = run_cli(
        "convert", "--formats", "onnx", "--out", str(tmp_path / "out"), env={"QAPORT_LOG_DIR": str(tmp_path)}
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    console = proc.stdout + proc.stderr
    for chatter in ("cuda", "cuDNN", "absl", "E0000", "W0000", "I0000", "deprecated", "pre-processing"):
        assert chatter not in console, (chatter, console)
    assert "wrote " in proc.stdout and "onnx" in proc.stdout
