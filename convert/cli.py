"""``python -m convert``: convert a model to every format (errors and Ctrl-C: qaport.boundary)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from convert.formats import FORMATS, parse_formats
from qaport.architectures import RANDOM_MODELS, SUPPORTED_CLASSES
from qaport.boundary import entry_point

ARTIFACTS = Path("artifacts")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m convert",
        description=(
            "Convert a Keras question-answering model (DistilBERT, BERT, RoBERTa, MobileBERT or ALBERT) "
            "to SavedModel, TF.js and ONNX, with a manifest."
        ),
    )
    p.add_argument(
        "--model",
        help=(
            f"Hub id or local save_pretrained() directory of a {SUPPORTED_CLASSES} checkpoint, "
            f"or random:NAME with NAME one of {', '.join(RANDOM_MODELS)} (default: the embedded model)"
        ),
    )
    p.add_argument("--out", type=Path, help="artifact directory (default: artifacts/<model-name>)")
    p.add_argument("--formats", help=f"comma-separated subset of: {', '.join(FORMATS)} (default: all)")
    p.add_argument("--fixed-length", type=int, metavar="N", help="export a fixed sequence length (the post used 384)")
    p.add_argument("--seed", type=int, default=0, help="seed for random: models (default 0)")
    return p


def summary(conv: object) -> str:
    from convert.conversion import Conversion

    assert isinstance(conv, Conversion)
    rows = [f"{'format':<11} {'status':<9} {'size MB':>8} {'time s':>7} {'peak GB':>8}"]
    for r in conv.results:
        rows.append(
            f"{r.name:<11} {'ok' if r.ok else 'FAILED':<9} {r.size_bytes / 1e6:>8.1f} {r.seconds:>7.1f} "
            f"{r.peak_rss_bytes / 1e9:>8.2f}" + (f"  {r.error}" if r.error else "")
        )
    return "\n".join(rows)


@entry_point("convert", interrupted="interrupted; the previous artifacts were left as they were")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    start = time.perf_counter()
    formats = parse_formats(args.formats)
    if args.fixed_length is not None and not 8 <= args.fixed_length <= 512:
        from qaport.errors import UsageError

        msg = f"--fixed-length {args.fixed_length} is outside 8..512 (the models have 512 positions)"
        raise UsageError(msg)
    from convert.conversion import raise_for_failures, run_conversion
    from convert.sources import load_model

    print(f"loading model {args.model or 'default (embedded)'} ...", flush=True)
    loaded = load_model(args.model, seed=args.seed)
    out = args.out or ARTIFACTS / loaded.source.name
    print(f"converting to {', '.join(formats)} -> {out}", flush=True)
    conv = run_conversion(loaded, out, formats, fixed_length=args.fixed_length, progress=lambda s: print(s, flush=True))
    print(summary(conv))
    raise_for_failures(conv)
    print(f"wrote {out}/manifest.json ({time.perf_counter() - start:.1f} s in all)")
    return 0
