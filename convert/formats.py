"""Format names on the command line; the formats themselves are qaport.registry's table."""

from __future__ import annotations

import difflib

from qaport.errors import UsageError
from qaport.registry import FORMATS, Format

__all__ = ["FORMATS", "INPUT_NAMES", "LOGICAL_OUTPUTS", "Format", "parse_formats", "with_requirements"]


LOGICAL_OUTPUTS = ("start_logits", "end_logits")
INPUT_NAMES = ("input_ids", "attention_mask")  # DistilBERT's; per architecture: qaport.architectures


def parse_formats(text: str | None) -> list[str]:
    """``savedmodel,onnx`` -> names in table order; unknown names get a did-you-mean."""
    if not text:
        return list(FORMATS)
    wanted = [t.strip() for t in text.split(",") if t.strip()]
    for name in wanted:
        if name not in FORMATS:
            close = difflib.get_close_matches(name, FORMATS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            msg = f"unknown format {name!r}; {hint}available: {', '.join(FORMATS)}"
            raise UsageError(msg)
    return [n for n in FORMATS if n in wanted]


def with_requirements(names: list[str]) -> list[str]:
    """Formats to build, including those only needed as inputs (built but not published)."""
    needed = set(names)
    for name in names:
        req = FORMATS[name].requires
        while req:
            needed.add(req)
            req = FORMATS[req].requires
    return [n for n in FORMATS if n in needed]
