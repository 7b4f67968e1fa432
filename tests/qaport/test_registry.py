"""qaport.registry: one table of formats and runtimes, and every stage's view derived from it."""

from __future__ import annotations

import json
import re

from qaport.registry import FORMATS, NODE_KIND, RUNTIMES, SHIPPABLE, TARGETS, client_formats
from tests.conftest import ROOT


def test_every_format_is_validated_in_known_runtimes_and_ships_through_node_targets() -> None:
    for f in FORMATS.values():
        assert f.validated_in and set(f.validated_in) <= set(RUNTIMES), f.name
        assert f.requires is None or f.requires in FORMATS
        if f.client is not None:  # a shipped format must have been proven where the client runs it
            assert SHIPPABLE[f.name] and all(t.split("@")[1] in RUNTIMES for t in SHIPPABLE[f.name])
            assert all(RUNTIMES[t.split("@")[1]].language == "node" for t in SHIPPABLE[f.name])
    assert TARGETS["savedmodel"] == ("tensorflow", "tfjs-node")  # the original post's system is a target
    assert SHIPPABLE["tfjs"] == ("tfjs@tfjs-wasm", "tfjs@tfjs-node")


def test_client_formats_map_each_option_to_one_format() -> None:
    assert client_formats(list(FORMATS)) == {
        "savedmodel": {"false": "savedmodel"},
        "tfjs": {"false": "tfjs", "true": "tfjs-fp16"},
        "onnx": {"false": "onnx", "true": "onnx-int8"},
    }
    assert client_formats(["onnx-int8"]) == {"onnx": {"true": "onnx-int8"}}


def test_the_javascript_side_uses_the_same_vocabulary() -> None:
    """runtimes.mjs' loader kinds and runtime ids, and the client's runtimes, are the registry's."""
    runtimes_mjs = (ROOT / "js" / "node" / "runtimes.mjs").read_text()
    kinds = re.search(r"export const FORMAT_KINDS = (\[.*?\]);", runtimes_mjs)
    ids = re.search(r"export const RUNTIME_IDS = (\{.*?\});", runtimes_mjs)
    assert kinds and ids
    assert set(json.loads(kinds.group(1).replace("'", '"'))) == set(NODE_KIND.values())
    ids_map = json.loads(re.sub(r"(\w+):", r'"\1":', ids.group(1)).replace("'", '"'))
    assert set(ids_map.values()) == {r.id for r in RUNTIMES.values() if r.language == "node"}
    for r in RUNTIMES.values():
        if r.tfjs_backend:
            assert ids_map[r.tfjs_backend] == r.id
    index_js = (ROOT / "js" / "client" / "index.js").read_text()
    client = re.search(r"const RUNTIMES = (\[.*?\]);", index_js)
    assert client and set(json.loads(client.group(1).replace("'", '"'))) == set(client_formats(list(FORMATS)))
    assert "client_formats" in index_js and "CLIENT_FORMATS" not in index_js  # read from the manifest


def test_validation_and_packaging_read_the_registry() -> None:
    from publish import checks
    from validate import validation

    assert checks.SHIPPABLE is SHIPPABLE
    assert validation.TARGETS is TARGETS
