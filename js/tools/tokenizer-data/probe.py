# Per-code-point behaviour of Python tokenizers 0.22 primitives -> JSON
import json
import pathlib

from tokenizers import normalizers as N
from tokenizers import pre_tokenizers as P

cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
out = {}
clean = N.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
bert_sa = N.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
sa = N.StripAccents()
low = N.Lowercase()
other = []
ws_bert = []
mn = []
mark = []
lower = {}
for c in cps:
    ch = chr(c)
    r = clean.normalize_str(ch)
    if r == "":
        other.append(c)
    elif r == " " and ch != " ":
        ws_bert.append(c)
    if sa.normalize_str(ch) == "":
        mark.append(c)
    lowered = low.normalize_str(ch)
    if lowered != ch:
        lower[c] = [ord(x) for x in lowered]
out["other"] = other
out["ws_bert"] = ws_bert
out["mark"] = mark
out["lower"] = lower
# Mn: BertNormalizer strip accents = nfd then drop Mn. For chars whose NFD is themselves: removed iff Mn
nfd = N.NFD()
for c in cps:
    ch = chr(c)
    if nfd.normalize_str(ch) == ch and bert_sa.normalize_str(ch) == "":
        mn.append(c)
out["mn"] = mn
for name, n in (("nfd", N.NFD()), ("nfkd", N.NFKD()), ("nfc", N.NFC()), ("nfkc", N.NFKC())):
    d = {}
    for c in cps:
        r = n.normalize_str(chr(c))
        if r != chr(c):
            d[c] = [ord(x) for x in r]
    out[name] = d
bert = P.BertPreTokenizer()
bl = P.ByteLevel(add_prefix_space=False, use_regex=True)
wsp = P.Whitespace()
dig = P.Digits(individual_digits=True)
punct = []
ws = []
L = []
Nn = []
Sbl = []
W = []
Sw = []
numeric = []
for c in cps:
    ch = chr(c)
    r = bert.pre_tokenize_str("a" + ch + "a")
    if len(r) == 2:
        ws.append(c)
    elif len(r) == 3:
        punct.append(c)
    if len(bl.pre_tokenize_str("a" + ch)) == 1:
        L.append(c)
    elif len(bl.pre_tokenize_str("1" + ch)) == 1:
        Nn.append(c)
    elif len(bl.pre_tokenize_str("." + ch)) != 1:
        Sbl.append(c)
    if len(wsp.pre_tokenize_str("a" + ch)) == 1:
        W.append(c)
    elif len(wsp.pre_tokenize_str("." + ch)) != 1:
        Sw.append(c)
    if len(dig.pre_tokenize_str("a" + ch)) == 2:
        numeric.append(c)
out.update(punct=punct, ws=ws, L=L, N=Nn, S_bytelevel=Sbl, W=W, S_whitespace=Sw, numeric=numeric)
pathlib.Path("probe.json").write_text(json.dumps(out))
print({k: len(v) for k, v in out.items()})
