"""Bad examples files and missing artifact files through ``python -m validate``.

Set QAPORT_RELIABILITY_DIR to an already converted default-model directory to skip the conversion.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qaport.registry import FORMATS
from tests.conftest import (
    copy_artifacts,
    error_lines,
    run_cli,
    tree,
)

# =======================================================================================================
# 3. Files. Covered: bad JSON line / missing field at the loader (test_squad); modified and extra files
#    and ../ or absolute manifest paths in validation (test_validate); modified and extra files before
#    packaging (test_publish). Added: the examples file through the CLI (SQuAD entries named, wrong
#    types and non-UTF-8 files without a traceback), missing files (validation and packaging), unsafe
#    manifest paths before packaging and in the npm client, unlisted or truncated files in the client.
# =======================================================================================================
BAD_EXAMPLES = {
    "jsonl-bad-line.jsonl": (
        '{"question": "Who?", "context": "Tigers."}\n\n{"question": "Who?", "context": "x"\n',
        r"line 3: not valid JSON",
    ),
    "jsonl-missing-context.jsonl": (
        '{"question": "Who?", "context": "Tigers."}\n{"question": "Who won?"}\n',
        r"line 2: field 'context' is missing",
    ),
    "jsonl-not-object.jsonl": ('["Who?", "Tigers."]\n', r"line 1: expected an object with 'question' and 'context'"),
    "squad-truncated.json": ('{"data": [\n {"paragraphs": [\n', r"not valid JSON at line 3"),
    "squad-missing-question.json": (
        json.dumps({"data": [{"paragraphs": [{"context": "x", "qas": [{"question": "q?"}, {"id": "b"}]}]}]}),
        r"data\[0\]\.paragraphs\[0\]\.qas\[1\]: field 'question' is missing",
    ),
    "squad-paragraph-not-object.json": (
        json.dumps({"data": [{"paragraphs": ["just text"]}]}),
        r"data\[0\]\.paragraphs\[0\] must be an object",
    ),
    "squad-answers-string.json": (
        json.dumps({"data": [{"paragraphs": [{"context": "x", "qas": [{"question": "q?", "answers": "x"}]}]}]}),
        r"data\[0\]\.paragraphs\[0\]\.qas\[0\] must be an object whose 'answers' is a list",
    ),
    "latin1.jsonl": (None, r"line 2 is not UTF-8 text \(byte 0xe9\)"),
    "empty.jsonl": ("", r"no questions found"),
}


@pytest.mark.parametrize("name", sorted(BAD_EXAMPLES))
def test_bad_examples_file_is_one_line_naming_the_entry(artifacts: Path, tmp_path: Path, name: str) -> None:
    text, pattern = BAD_EXAMPLES[name]
    path = tmp_path / name
    if text is None:
        path.write_bytes(b'{"question": "Who?", "context": "Tigers."}\n{"question": "Qui?", "context": "Caf\xe9"}\n')
    else:
        path.write_text(text)
    proc = run_cli("validate", str(artifacts), "--examples", str(path), timeout=300)
    assert proc.returncode == 2, proc.stdout[-1000:] + proc.stderr[-2000:]
    (line,) = error_lines(proc.stderr)
    print(f"\n{name}: {line}")
    assert str(path) in line and re.search(pattern, line), line
    assert "Traceback" not in proc.stderr


@pytest.mark.tf
def test_a_question_that_cannot_be_windowed_is_refused_alone(artifacts: Path, tmp_path: Path) -> None:
    """About 900 words of question: refused by id with the reason; the other questions are validated."""
    root = copy_artifacts(artifacts, tmp_path / "art")
    context = "The Tigers beat the Lions 24-10 in Paris in 1999. Maria Lindqvist founded Northwind Labs in 2003."
    rows = [
        {"id": "ok-1", "question": "Who beat the Lions?", "context": context},
        {"id": "too-long", "question": " ".join(["why"] * 900) + "?", "context": context},
        {"id": "ok-2", "question": "Who founded Northwind Labs?", "context": context},
    ]
    path = tmp_path / "examples.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    fast = ("--only", "onnx@onnxruntime", "--warmup", "0", "--runs-short", "1", "--runs-long", "1")
    proc = run_cli("validate", str(root), "--examples", str(path), *fast, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    report = json.loads((root / "report.json").read_text())
    assert [r["id"] for r in report["refused"]] == ["too-long"]
    assert "the question must leave room for context" in report["refused"][0]["reason"]
    assert report["examples"]["refused"] == 1 and report["examples"]["asked"] == report["examples"]["count"] + 1
    (target,) = [t for t in report["targets"] if t["status"] != "not_run"]
    assert target["answers"]["agree"] + target["answers"]["tie"] == report["examples"]["count"]
    md = (root / "report.md").read_text()
    assert "1 of " in md and "questions refused (cannot be windowed)" in md and "`too-long`" in md
    assert "refused question too-long: cannot window" in proc.stdout + proc.stderr


@pytest.mark.tf
@pytest.mark.node
def test_missing_file_fails_validation_naming_it(artifacts: Path, tmp_path: Path) -> None:
    root = copy_artifacts(artifacts, tmp_path / "m")
    (root / "vocab.txt").unlink()
    shard = sorted((root / "tfjs").glob("*.bin"))[0]
    shard.unlink()
    proc = run_cli("validate", str(root), "--only", "tfjs", "--limit", "1", "--warmup", "0", timeout=900)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((root / "report.json").read_text())
    ran = [t for t in report["targets"] if not t.get("excluded")]
    assert [t["id"] for t in ran] == list(FORMATS["tfjs"].targets)  # Node.js and browser targets alike
    for target in ran:
        assert target["status"] == "failed"
        assert "vocab.txt is listed in the manifest but missing" in target["reason"]
    (root / "vocab.txt").write_bytes((artifacts / "vocab.txt").read_bytes())  # now only the shard is missing
    proc = run_cli("validate", str(root), "--only", "tfjs", "--limit", "1", "--warmup", "0", timeout=900)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((root / "report.json").read_text())
    for target in [t for t in report["targets"] if not t.get("excluded")]:
        assert f"tfjs/{shard.name} is listed in the manifest but missing" in target["reason"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--only", "onnx@onnxruntim"), "--only onnx@onnxruntim: no such target, format, runtime or host"),
        (("--exclude", "pyhton"), "--exclude pyhton: no such target"),
        (("--only", "tfjs-fp16@tfjs-webgl,tfjs@tfjs-webgl", "--exclude", "browser"), "no target of"),
    ],
)
def test_a_selection_that_names_nothing_is_one_line_before_any_work(
    artifacts: Path, tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    """A typo in --only/--exclude, or a selection that leaves no target, is refused at once (exit 2, the
    directory untouched) instead of a FAILED report of zero targets; commas separate names as repeats do."""
    root = copy_artifacts(artifacts, tmp_path / "art")
    before = tree(root)
    proc = run_cli("validate", str(root), *args, timeout=120)
    lines = error_lines(proc.stderr)
    assert proc.returncode == 2 and len(lines) == 1 and says in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and tree(root) == before


def test_comma_separated_selection_equals_repeated_flags() -> None:
    from validate.cli import _selectors

    assert _selectors(["onnx@onnxruntime,onnx-int8@onnxruntime-node", " node "], "--only") == (
        "onnx@onnxruntime",
        "onnx-int8@onnxruntime-node",
        "node",
    )
