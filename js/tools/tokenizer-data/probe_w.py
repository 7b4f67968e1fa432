import json
import pathlib

from tokenizers import pre_tokenizers as P

wsp = P.Whitespace()
d = json.loads(pathlib.Path("probe.json").read_text())
W = []
S = []
for c in range(0x110000):
    if 0xD800 <= c <= 0xDFFF:
        continue
    ch = chr(c)
    r = [p for p, _ in wsp.pre_tokenize_str("a" + ch)]
    if r == ["a" + ch]:
        W.append(c)
    else:
        r = [p for p, _ in wsp.pre_tokenize_str("." + ch)]
        if r == ["."]:
            S.append(c)
d["W"] = W
d["S_whitespace"] = S
pathlib.Path("probe.json").write_text(json.dumps(d))
print(len(W), len(S), set(S) == set(d["ws"]))
