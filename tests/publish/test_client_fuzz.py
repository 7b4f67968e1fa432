"""The npm client against random arguments: ``predict``, ``predictBatch`` and ``fromOptions`` with non-string, empty,
huge (100,000 characters) and odd-Unicode values give ``QAError`` / ``DecodeError`` / ``IntegrityError`` or a
well-formed answer, never a ``TypeError`` from inside, and the client keeps answering (issue 26).

Seeded: ``QAPORT_FUZZ_SEED`` and ``QAPORT_FUZZ_CASES`` replay or widen a run (CI runs a fast sample). The driver is
tests/publish/js/client_fuzz.mjs; it imports js/client/index.js, the file the package ships byte for byte.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, needs_node

SEED = int(os.environ.get("QAPORT_FUZZ_SEED", "20261205"))
CASES = int(os.environ.get("QAPORT_FUZZ_CASES", "300"))


@pytest.mark.node
@needs_node
def test_random_arguments_are_answered_or_refused_with_the_clients_errors(artifacts: Path, tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    cmd = ["node", str(ROOT / "tests" / "publish" / "js" / "client_fuzz.mjs"), "--entry", "client/index.js"]
    cmd += ["--model", str(artifacts), "--seed", str(SEED), "--cases", str(CASES), "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT / "js", capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    print(f"\nseed {SEED}:\n{proc.stdout}")  # the number of cases tried, per API
    result = json.loads(out.read_text())
    assert result["failures"] == [], f"seed {SEED}: {result['failures'][:5]}"
    tally = result["tally"]
    assert sum(t["tried"] for t in tally.values()) == CASES
    for api, t in tally.items():  # every API was both refused and answered in the sample
        assert t["tried"] > 0 and t["answered"] > 0 and t["refused"].get("QAError", 0) > 0, (api, t)
    assert tally["predict"]["refused"].get("DecodeError", 0) > 0  # unwindowable pairs reach the decoder's error
    assert result["after"] == result["again"]  # still answering, as a fresh client does
