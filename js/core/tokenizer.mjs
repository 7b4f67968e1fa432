// A pure-JavaScript reader of Hugging Face `tokenizer.json` files, equal to Python `tokenizers` 0.22 in ids,
// type ids, special-token masks, sequence ids, word ids and character offsets. No imports, no Node APIs: the
// same module runs in browsers and in Node.js.
//
//   const tok = Tokenizer.fromJSON(textOrObject);   // TokenizerError for anything it cannot reproduce exactly
//   const enc = tok.encode(question, context);      // or tok.encode(text)
//   enc.getIds(), getTypeIds(), getSpecialTokensMask(), getSequenceIds(), getWordIds(), getOffsets()
//
// How it stays exact. tokenizers keeps, for every character of the normalized text, the range of the original
// text it came from (NormalizedString "alignments"), through every normalizer and pre-tokenizer step, and maps
// each token back through them. This file does the same, port by port of the Rust code (tokenizer/normalizer.rs
// `transform`: a replaced character keeps its own alignment, an inserted one takes the previous character's).
// Rust counts bytes; every alignment there covers whole characters, so counting code points here gives the same
// offsets once Rust converts its byte offsets to characters (which the Python binding does).
//
// Unicode: tokenizers uses its own tables, not the JavaScript engine's: unicode-normalization-alignments
// (Unicode 9.0: NFD/NFKD/NFC/NFKC, canonical combining classes, StripAccents' "is combining mark"),
// unicode_categories (BertNormalizer's control/other and non-spacing marks, punctuation), Rust's char methods
// (whitespace, numeric, lowercase) and the regex engines (\p{L}, \p{N}, \s, \w). The character classes,
// combining classes, compositions and lowercase mappings below were measured code point by code point from
// Python tokenizers 0.22.2 (all of U+0000..U+10FFFF) and are embedded, so results do not depend on the
// engine's Unicode version. Decompositions come from String.prototype.normalize on one character, minus the
// characters the engine decomposes and Unicode 9.0 does not (embedded, measured against Node 20's ICU,
// Unicode 17). Only the `Split` pre-tokenizer's and `Replace` normalizer's own regex patterns run on the
// engine's regex (\p classes of the engine's Unicode version).

export class TokenizerError extends Error {
  constructor(message) {
    super(message);
    this.name = 'TokenizerError';
  }
}

function refuse(kind, type, why) {
  throw new TokenizerError(`${kind} ${type} is not supported: ${why}; this tokenizer.json cannot be reproduced exactly`);
}

// ------------------------------------------------------------------------------------------------------------
// Unicode data (generated, see the header)
// ------------------------------------------------------------------------------------------------------------
// Measured from Python tokenizers 0.22.2 over all code points (sets: base-36 "gap.length" ranges), combining
// classes and compositions from unicode-normalization-alignments 0.1.12 (Unicode 9.0), decomposition
// exceptions against Node 20 (ICU 78, Unicode 17.0). Regenerate rather than edit.
const UNICODE_DATA = {"sets":{"other":"0.9,2.2,1.i,2n.x,d.1,11u.6,m.1,5c.1,1d.1,3cu.1,1ks.5,q.5,1d.5,1.a,11u8.4xs,16n.1,6x.3,1.1,3b3.1,xya.4,43z.8,h406.1,u.2o,1egw.1eke,2.1eke","mark":"lc.34,7n.7,7b.19,1.1,1.2,1.2,1.1,20.b,1c.l,g.1,2t.7,2.6,2.2,1.4,z.1,u.r,2j.b,1m.9,y.4,1.9,1.3,1.5,17.3,3c.e,1.x,1i.3,1.i,1.7,a.2,t.3,1k.1,1.7,2.2,2.3,9.1,a.2,t.3,1k.1,1.5,4.2,2.3,3.1,u.2,3.1,b.3,1k.1,1.8,1.3,1.3,k.2,t.3,1k.1,1.7,2.2,2.3,8.2,a.2,u.1,1n.5,3.3,1.4,9.1,14.4,1m.7,1.3,1.4,7.2,b.2,t.3,1k.1,1.7,1.3,1.4,7.2,b.2,t.3,1m.7,1.3,1.4,9.1,a.2,u.2,1y.1,4.6,1.1,1.8,i.2,1p.1,2.7,c.8,2q.1,2.6,1.2,b.6,22.2,r.1,1.1,1.1,4.2,1d.k,1.2,5.b,1.10,9.1,2s.k,n.4,4.3,1.3,2.7,3.4,d.c,1.1,a.4,jj.3,qa.3,t.3,t.2,u.2,1s.w,9.1,19.3,3b.2,y.1,3a.c,4.c,63.5,1l.a,1.t,2.1,1c.f,1t.5,1b.h,12.9,c.3,u.d,1k.e,1c.k,48.3,1.l,4.1,4.3,3.2,5i.1i,5.5,k0.x,2da.3,3x.1,2o.w,fe.6,2x.2,n9w.4,1.a,w.2,28.2,7k.1,3.1,4.1,n.5,2g.2,1e.i,q.i,1g.8,p.d,18.4,1b.e,10.1,1v.e,c.1,8.2,19.3,1e.1,1.3,2.2,5.2,1.1,15.5,5.2,6k.8,1.2,fn4.1,kh.g,g.g,r1.1,6a.1,45.5,1ae.3,1.2,5.4,14.3,4.1,4l.2,109.3,1h.f,1k.4,19.b,1x.3,10.e,1q.1,c.3,1c.e,9.3,2n.c,6.1,4g.c,l.4,1k.1,1.7,2.2,2.3,9.1,a.2,2.7,3.5,5c.i,2x.k,6j.7,2.9,r.2,2a.h,2y.d,2t.f,zn.8,1.8,2a.m,1.e,fg9.5,1n.7,t6.1a,g.4,f7u.2,43q.5,3.6,8.8,2.7,u.4,44.3,1iz.1j,4.1e,8.1,e.1,m.5,1.f,11s.7,1.h,2.7,1.2,1.5,1ph.7,31.7,gzhx.6o","mn":"lc.1s,2.1,2.17,7n.5,7d.19,1.1,1.2,1.2,1.1,20.b,1c.l,g.1,2t.7,2.6,2.2,1.4,z.1,u.r,2j.b,1m.9,y.4,1.9,1.3,1.5,17.3,3r.w,1j.1,1.1,4.8,4.1,3.7,a.2,t.1,1m.1,4.4,8.1,k.2,t.2,1l.1,4.2,4.2,2.3,3.1,u.2,3.1,b.2,1l.1,4.5,1.2,4.1,k.2,t.1,1m.1,2.1,1.4,8.1,8.1,b.2,u.1,1p.1,c.1,1e.1,1p.3,5.2,2.4,7.2,b.2,t.1,1m.1,2.1,6.1,5.2,k.2,t.1,1r.4,8.1,k.2,2u.1,7.3,1.1,2i.1,2.7,c.8,2q.1,2.6,1.2,b.6,22.2,r.1,1.1,1.1,1j.2,1.1,2.1,1.6,1.1,1.3,1.2,5.6,1.4,1.4,1.4,1.4,1.4,1.c,1.3,9.1,2u.4,1.6,1.2,2.2,p.2,4.3,g.4,d.1,2.2,6.1,f.1,jj.3,qa.3,t.3,t.2,u.2,1s.2,1.7,8.1,2.b,9.1,19.3,4b.1,3a.3,4.2,9.1,6.3,63.2,2.1,1m.1,1.7,1.1,1.1,2.8,6.a,2.1,1c.e,1u.4,1c.1,1.5,1.1,5.1,14.9,c.2,w.4,2.2,1.3,1k.1,1.2,3.1,1.3,1m.8,2.2,48.3,1.d,1.7,4.1,6.1,3.2,5i.1i,6.4,k0.d,4.1,3.c,2da.3,3x.1,2o.w,fe.4,2z.2,n9w.1,4.a,w.2,28.2,7k.1,3.1,4.1,p.2,4d.1,r.i,1g.8,p.b,1a.3,1c.1,2.4,2.1,14.1,1v.6,2.2,2.2,c.1,8.1,1b.1,1f.1,1.3,2.2,5.2,1.1,16.2,8.1,6m.1,2.1,4.1,fn4.1,kh.g,g.g,r1.1,6a.1,45.5,1ae.3,1.2,5.4,14.3,4.1,4l.2,10a.1,1i.f,1k.3,1d.4,2.2,1x.3,10.5,1.1,2.5,1q.1,c.2,1g.9,b.3,2q.3,2.1,1.2,4n.1,3.8,l.2,1m.1,3.1,11.7,3.5,8u.6,1.1,4.2,1.2,6m.4,6.2,1.2,r.2,2d.8,2.1,1.2,2y.1,1.1,2.6,1.1,2t.3,2.4,1.5,gjo.5,1n.7,uw.4,f7u.2,43s.3,h.8,2.7,u.4,44.3,1iz.1j,4.1e,8.1,e.1,m.5,1.f,2sg.7,gzl5.6o","punct":"x.f,a.7,q.6,q.4,y.1,5.1,3.1,a.2,3.1,3.1,ji.1,8.1,cy.6,15.2,1f.1,1.1,2.1,2.1,18.2,k.2,1.2,d.1,2.2,22.4,2u.1,17.e,6h.3,1i.f,v.1,79.2,a.1,an.1,lf.1,2i.1,a.2,4o.f,1.1,11.4,1z.1,22.5,4.2,33.6,4r.1,h0.9,47.1,h8.2,18.2,26.3,1z.2,4d.3,1.3,11.b,8p.2,60.2,3k.7,1.6,4s.7,4b.4,1n.5,1q.2,1s.8,b.1,n0.o,8.k,1.d,1.c,u.2,e.2,hl.4,t.2,u5.e,27.2,v.a,b7.m,1r.4,w.2,l7.4,1.2,34.1,3z.1b,1.j,ce.3,4.a,2.c,g.1,c.1,2q.1,2i.1,mwy.2,7h.3,2r.1,a.1,37.6,ak.4,2e.2,14.3,1.1,1d.2,1b.1,2p.d,g.2,3g.4,3i.2,g.2,6x.1,g2a.2,5s.a,m.z,1.e,1.1,4.1,1.2,45.3,1.6,1.4,a.2,3.2,q.3,1.1,r.1,1.1,1.7,be.3,ik.1,1c.1,bi.1,kn.1,5j.1,v.1,7k.9,12.1,34.7,1u.7,2h.4,x6.7,31.2,1.4,3i.4,1c.2,27.5,3.1,d.1,1.3,2g.6,2z.1,f0.1,6y.n,2x.3,6w.3,2lt.5,dtl.2,3p.1,1t.5,8.1,g2i.1,5wn.5","ws":"9.5,i.1,2s.1,q.1,4bj.1,1vj.b,t.2,5.1,1b.1,334.1","L":"1t.q,6.q,1b.1,a.1,4.1,5.n,1.v,1.cq,4.c,e.5,7.1,1.1,3l.5,1.2,2.4,1.1,6.1,1.3,1.1,1.k,1.2b,1.3v,8.4m,1.12,2.1,6.15,1z.r,4.4,19.17,z.2,1.2r,1.1,f.2,7.2,a.3,2.1,g.1,1.u,t.2h,b.1,o.x,9.2,4.1,5.m,4.1,9.1,3.1,n.p,7.b,5.o,1.6,h.16,1m.1i,3.1,i.1,7.a,f.g,4.8,2.2,2.m,1.7,1.1,3.4,3.1,g.1,d.2,1.3,e.2,a.1,8.6,4.2,2.m,1.7,1.2,1.2,1.2,v.4,1.1,j.3,g.9,1.3,1.m,1.7,1.2,1.5,3.1,i.1,f.2,n.1,b.8,2.2,2.m,1.7,1.2,1.5,3.1,u.2,1.3,f.1,h.1,1.6,3.3,1.4,3.2,1.1,1.2,3.2,3.3,3.c,m.1,1g.8,1.3,1.n,1.g,3.1,q.3,2.1,2.2,u.1,4.8,1.3,1.n,1.a,1.5,3.1,v.2,1.2,f.2,h.9,1.3,1.15,2.1,g.1,5.3,8.3,o.6,5.i,3.o,1.9,1.1,2.7,1m.1c,1.2,c.7,1m.2,1.1,1.5,1.o,1.1,1.a,1.2,9.1,2.5,1.1,l.4,w.1,1r.8,1.10,r.5,37.17,k.1,g.6,4.4,3.1,3.2,7.3,4.d,c.1,h.12,1.1,5.1,2.17,1.99,1.4,2.7,1.1,1.4,2.15,1.4,2.x,1.4,2.7,1.1,1.4,2.f,1.1l,1.4,2.1v,11.g,g.2e,2.6,3.h8,2.h,1.q,5.23,6.8,7.i,d.j,e.i,e.d,1.3,f.1g,z.1,4.1,1v.2h,7.5,2.y,1.1,5.1y,a.v,1d.u,2.5,b.18,4.q,1i.n,9.1h,2a.1,2l.1b,h.8,1i.u,d.2,a.18,q.10,15.3,a.10,2.b,5.17,2.3,15.4,1.6,1.2,3.1,5.5c,1s.7q,2.6,2.12,2.6,2.8,1.1,1.1,1.1,1.v,2.1h,1.7,1.1,3.3,1.7,3.4,2.6,4.d,5.3,1.7,38.1,d.1,g.d,2t.1,4.1,2.a,1.1,3.5,6.1,1.1,1.1,1.4,1.b,2.4,5.5,4.1,1g.2,22j.6d,6.4,3.2,c.12,1.1,5.1,2.1k,7.1,g.n,9.7,1.7,1.7,1.7,1.7,1.7,1.7,1.7,28.1,d1.2,16.5,5.2,4.2e,6.3,1.2i,1.4,5.17,1.2m,h.w,1c.g,e8.534,1s.h3h,1v.1a,2.7h,3.g,a.2,k.1b,g.v,2.1y,1d.9,2.2v,2.1v,2.2,1.1,1.8,l.g,1.3,1.4,1.n,t.1g,e.1e,1q.6,3.1,1.2,b.s,a.n,p.t,7.1b,s.1,g.5,1.a,a.5,1.15,n.3,1.8,k.n,3.1,3.1e,1.1,3.2,2.5,2.1,1.1,o.3,2.b,7.3,c.6,2.6,2.6,9.7,1.7,1.17,1.e,6.37,t.8mc,c.n,4.1d,6is.a6,2.2y,12.7,c.5,5.1,1.a,1.d,1.5,1.1,1.2,1.2,1.30,x.a3,i.1s,2.1i,14.c,38.5,1.3r,10.q,6.q,b.2h,3.6,2.6,2.6,2.3,z.c,1.q,1.j,1.2,1.f,2.e,y.3f,at.t,3.1d,1b.w,d.k,1.8,6.12,a.u,2.10,4.8,1c.4e,i.10,4.10,4.14,8.1g,c.b,1.f,1.7,1.2,1.b,1.f,1.7,1.2,3.1g,c.8n,9.m,a.8,o.6,1.16,1.9,1x.6,2.1,1.18,1.2,3.1,2.n,a.n,9.v,1t.j,1.2,a.m,a.q,1y.1k,6.2,1s.1,f.4,1.3,1.t,16.t,3.t,z.8,1.s,r.1i,a.m,a.j,d.i,32.21,1j.1f,d.1f,d.10,12.s,9.n,6y.16,6.2,g.3,1n.t,a.1,8.m,16.i,1a.l,r.n,c.1h,1l.2,2.1,d.19,w.p,q.10,t.1,2.1,8.z,3.1,c.1c,e.4,l.1,1.1,z.i,1.p,j.2,1r.7,1.1,1.4,1.f,1.a,7.1b,12.8,2.2,2.m,1.7,1.2,1.5,3.1,i.1,c.5,u.a,1.1,2.1,1.12,1.1,p.1,1.1,18.1h,i.4,k.3,u.1c,k.2,1.1,54.1b,15.4,10.1c,k.1,1n.17,d.1,1z.r,11.7,55.18,38.1s,v.8,2.1,2.8,1.2,1.o,f.1,1.1,2m.8,2.13,g.1,1.1,s.1,a.14,7.1,l.1,b.1a,j.1,i.21,5j.x,v.9,1.11,h.1,1d.u,34.7,1.2,1.12,l.1,p.6,1.2,1.w,e.1,93.j,f.1,1.d,1.y,3g.1,27.pm,6e.5g,218.2p,f.ts,h.6,p.32z,5.g7,5a1.u,1cy.ft,7.v,h.27,h.u,i.1c,g.4,v.l,5.j,c0.19,5v.1s,3k.23,5.1,1u.d,1s.2,1.1,s.4qg,8.ye,15.a,6w7.4,1.7,1.2,1.83,f.1,t.3,2.1,e.4,8.b0,1s4.2z,5.d,3.9,7.a,4me.2d,1.1z,1.2,2.1,2.2,2.4,1.c,1.1,1.7,1.1t,1.4,2.8,1.7,1.s,1.4,1.5,1.1,3.7,1.9g,2.p,1.p,1.v,1.p,1.v,1.p,1.v,1.p,1.v,1.p,1.8,1f8.v,6.6,79.1q,42.19,a.7,g.1,8x.u,i.18,dg.s,6c.u,2.1,dr.7,1.4,1.2,1.f,1.5h,1n.1w,7.1,xg.4,1.r,1.2,1.1,2.1,1.a,1.4,1.1,1.1,6.1,4.1,1.1,1.1,1.3,1.2,1.1,2.1,1.1,1.1,1.1,1.1,1.2,1.1,2.4,1.7,1.4,1.4,1.1,1.a,1.h,5.3,1.5,1.h,3es.wyo,w.37e,6.66,2.4g2,e.5rl,f.ha,1wi.f2,15u.3t7,5.38g","N":"1c.a,3c.2,5.1,2.3,141.a,3q.a,5i.a,bg.a,3a.a,4.6,30.a,3a.a,3a.a,2.6,32.d,37.a,8.7,2v.a,2w.7,7.j,31.a,2o.a,3a.a,1y.k,7g.a,1y.a,jz.k,oh.3,6n.a,6.a,m.a,8c.a,3k.b,4l.a,6.a,52.a,2e.a,3q.a,6.a,t2.1,3.6,6.a,5i.1f,2.5,k6.1o,26.m,hi.u,12h.1,ll.1,p.9,e.3,9j.4,3u.a,u.8,1.f,w.a,13.f,msg.a,58.a,8w.6,4a.a,12.a,5i.a,m.a,2e.a,ba.a,geu.a,dp.19,c.1l,h.2,9h.r,10.4,t.1,8.1,3q.5,5m.a,q6.8,p.7,13.9,23.5,m.6,4g.2,2.g,2.1a,1s.9,1g.2,u.3,23.5,2w.8,o.8,15.7,96.6,1c.a,6.a,7q.v,4e.a,16.4,34.7,3q.u,3k.a,1o.a,40.a,7.k,6z.a,9i.a,3a.a,ae.a,2u.a,6.k,24.c,bo.j,2l.a,ie.a,2e.t,6b.a,1y.a,bq.a,2u.l,tn.33,c01.a,1t2.a,2e.a,3q.a,1.7,em.a,7a.n,imx.a,152.k,c.k,30.p,ut.1e,1ts.a,bq.a,dy.a,6v.a,jw.9,3k.a,lz.1n,1.3,1.4,24.19,1.f,qq.d,25f.a","S":"9.5,i.1,2s.1,q.1,4bj.1,1vj.b,t.2,5.1,1b.1,334.1","W":"1c.a,7.q,4.1,1.q,1b.1,a.1,4.1,5.n,1.v,1.cq,4.c,e.5,7.1,1.1,h.39,1.2,2.4,1.1,6.1,1.3,1.1,1.k,1.2b,1.3v,1.4t,1.12,2.1,6.15,8.19,1.1,1.2,1.2,1.1,8.r,4.4,t.b,5.22,4.2u,1.8,2.a,1.j,2.1,g.1n,2.2t,e.1i,4.1,2.1,2.1a,i.s,4.b,5.o,1.6,8.23,1.3l,2.a,1.j,1.8,2.2,2.m,1.7,1.1,3.4,2.9,2.2,2.4,8.1,4.2,1.5,2.c,a.1,1.1,2.3,1.6,4.2,2.m,1.7,1.2,1.2,1.2,2.1,1.5,4.2,2.3,3.1,7.4,1.1,7.g,b.3,1.9,1.3,1.m,1.7,1.2,1.5,2.a,1.3,1.3,2.1,f.4,2.a,9.7,1.3,1.8,2.2,2.m,1.7,1.2,1.5,2.9,2.2,2.3,7.3,4.2,1.5,2.a,1.1,g.2,1.6,3.3,1.4,3.2,1.1,1.2,3.2,3.3,3.c,4.5,3.3,1.4,2.1,6.1,e.a,g.d,1.3,1.n,1.g,2.9,1.3,1.4,7.2,1.3,2.1,2.4,2.a,g.4,1.8,1.3,1.n,1.a,1.5,2.9,1.3,1.4,7.2,6.2,1.4,2.a,1.3,c.d,1.3,1.1f,1.3,1.5,5.4,7.5,2.a,a.6,1.3,1.i,3.o,1.9,1.1,2.7,3.1,4.6,1.1,1.8,6.a,2.2,d.1m,5.f,1.a,13.2,1.1,1.5,1.o,1.1,1.n,2.5,1.1,1.7,1.a,2.4,w.1,n.2,6.a,b.1,1.1,1.1,4.a,1.10,4.k,1.i,1.10,9.1,1l.22,6.26,2.12,1.1,5.1,2.17,1.99,1.4,2.7,1.1,1.4,2.15,1.4,2.x,1.4,2.7,1.1,1.4,2.f,1.1l,1.4,2.1v,2.3,w.g,g.2e,2.6,3.h8,2.h,1.q,5.23,3.b,7.m,9.m,b.k,c.d,1.3,1.2,c.2c,3.1,4.2,2.a,x.3,1.b,6.2h,7.17,5.1y,a.v,1.c,4.c,a.14,2.5,b.18,4.q,6.a,12.s,4.1r,1.t,2.b,6.a,d.1,8.v,1d.25,3.a,h.9,c.38,c.1k,8.a,3.1d,2.b,5.17,2.3,g.3,1.13,5.eu,2.6,2.12,2.6,2.8,1.1,1.1,1.1,1.v,2.1h,1.7,1.1,3.3,1.7,3.4,2.6,4.d,5.3,1.7,f.2,1d.2,j.1,s.1,d.1,g.d,1f.x,h.1,4.1,2.a,1.1,3.5,6.1,1.1,1.1,1.4,1.b,2.4,5.5,4.1,h.15,ml.1g,1ee.6d,6.9,c.12,1.1,5.1,2.1k,7.1,f.o,9.7,1.7,1.7,1.7,1.7,1.7,1.7,1.7,1.w,1b.1,d1.3,p.f,1.5,2.5,4.2e,2.2,2.3,1.2i,1.4,5.17,1.2m,h.w,1c.g,e8.534,1s.h3h,1v.1a,2.7h,3.s,k.1f,1.a,1.37,11.9,2.2v,2.1v,2.2,1.1,1.8,l.1i,4.1,j.1g,c.1y,a.a,6.o,3.1,1.1d,2.10,c.t,3.1t,e.b,6.v,1.1j,9.e,2.a,6.n,3.21,o.3,2.g,2.5,a.6,2.6,2.6,9.7,1.7,1.17,1.e,6.3f,1.2,2.a,6.8mc,c.n,4.1d,6is.a6,2.2y,12.7,c.5,5.c,1.d,1.5,1.1,1.2,1.2,1.30,x.a3,i.1s,2.1i,14.c,4.g,g.g,3.2,o.3,w.5,1.3r,j.a,7.q,4.1,1.q,b.2h,3.6,2.6,2.6,2.3,z.c,1.q,1.j,1.2,1.f,2.e,y.3f,1x.1h,3s.1,3m.t,3.1d,f.1,v.w,d.u,5.17,5.u,2.10,4.8,1.5,16.4e,2.a,6.10,4.10,4.14,8.1g,c.b,1.f,1.7,1.2,1.b,1.f,1.7,1.2,3.1g,c.8n,9.m,a.8,o.6,1.16,1.9,1x.6,2.1,1.18,1.2,3.1,2.n,a.n,9.v,1t.j,1.2,a.m,a.q,1y.1k,6.2,1s.4,1.2,5.8,1.3,1.t,2.3,4.1,w.t,3.t,z.8,1.u,p.1i,a.m,a.j,d.i,32.21,1j.1f,d.1f,d.14,8.a,6.12,3.5,1.n,6y.16,1.2,3.2,g.3,1j.x,a.1,8.x,v.m,16.l,r.n,9.1z,v.g,9.1o,7.1,d.p,7.a,6.1h,1.a,4.4,8.10,2.1,9.1x,4.4,1.d,1.1,z.i,1.11,6.4,1q.7,1.1,1.4,1.f,1.a,7.1n,5.a,6.4,1.8,2.2,2.m,1.7,1.2,1.5,1.a,2.2,2.3,2.1,6.1,5.7,2.7,3.5,b.a,1.1,2.1,1.12,1.a,1.1,2.1,1.4,1.8,d.2,t.23,5.a,4.4,u.1y,1.1,8.a,4m.1i,2.9,n.6,y.1t,3.1,b.a,12.1l,7.a,6.k,s.r,2.f,4.a,6.7,55.1n,2t.22,l.8,2.1,2.8,1.2,1.u,1.2,2.9,c.a,1y.8,2.1a,2.8,1.2,r.1r,8.1,8.22,3.1,i.21,5j.x,f.a,6.9,1.19,1.9,f.a,o.u,2.m,1.e,21.7,1.2,1.18,3.1,1.2,1.9,8.a,6.6,1.2,1.11,1.2,1.6,7.a,8m.n,9.h,1.15,3.5,d.b,2d.1,27.pm,2u.33,h.5g,218.2p,f.ts,g.m,a.32z,5.g7,5a1.1m,1c6.ft,7.v,1.a,6.27,1.a,6.u,2.5,b.1j,9.4,c.a,9.l,5.j,c0.19,3.a,5i.1s,3k.23,4.1l,7.h,1s.2,1.2,b.2,e.4qg,8.ye,15.a,6w7.4,1.7,1.2,1.83,f.1,t.3,2.1,e.4,8.b0,1s4.2z,5.d,3.9,7.a,3.2,381.a,ee.1a,2.n,f2.5,3.6,8.8,2.7,u.4,44.3,cb.2d,1.1z,1.2,2.1,2.2,2.4,1.c,1.1,1.7,1.1t,1.4,2.8,1.7,1.s,1.4,1.5,1.1,3.7,1.9g,2.p,1.p,1.v,1.p,1.v,1.p,1.v,1.p,1.v,1.p,1.8,2.1e,e8.1j,4.1e,8.1,e.1,m.5,1.f,uo.v,6.6,5x.7,1.h,2.7,1.2,1.5,5.1q,x.1,34.19,3.e,2.a,4.1,8x.v,h.1m,d2.16,5y.17,dh.7,1.4,1.2,1.f,1.5h,b.7,15.24,4.a,x2.4,1.r,1.2,1.1,2.1,1.a,1.4,1.1,1.1,6.1,4.1,1.1,1.1,1.3,1.2,1.1,2.1,1.1,1.1,1.1,1.1,1.2,1.1,2.4,1.7,1.4,1.4,1.1,1.a,1.h,5.3,1.5,1.h,hg.q,6.q,6.q,21y.a,sm.wyo,w.37e,6.66,2.4g2,e.5rl,f.ha,1wi.f2,15u.3t7,5.38g,f9e8.6o","numeric":"1c.a,3c.2,5.1,2.3,141.a,3q.a,5i.a,bg.a,3a.a,4.6,30.a,3a.a,3a.a,2.6,32.d,37.a,8.7,2v.a,2w.7,7.j,31.a,2o.a,3a.a,1y.k,7g.a,1y.a,jz.k,oh.3,6n.a,6.a,m.a,8c.a,3k.b,4l.a,6.a,52.a,2e.a,3q.a,6.a,t2.1,3.6,6.a,5i.1f,2.5,k6.1o,26.m,hi.u,12h.1,ll.1,p.9,e.3,9j.4,3u.a,u.8,1.f,w.a,13.f,msg.a,58.a,8w.6,4a.a,12.a,5i.a,m.a,2e.a,ba.a,geu.a,dp.19,c.1l,h.2,9h.r,10.4,t.1,8.1,3q.5,5m.a,q6.8,p.7,13.9,23.5,m.6,4g.2,2.g,2.1a,1s.9,1g.2,u.3,23.5,2w.8,o.8,15.7,96.6,1c.a,6.a,7q.v,4e.a,16.4,34.7,3q.u,3k.a,1o.a,40.a,7.k,6z.a,9i.a,3a.a,ae.a,2u.a,6.k,24.c,bo.j,2l.a,ie.a,2e.t,6b.a,1y.a,1i.a,9y.a,2u.l,tn.33,c01.a,1t2.a,2e.a,3q.a,1.7,em.a,7a.n,9p.3,id5.a,152.k,c.k,30.p,ut.1e,1ts.a,bq.a,dy.a,6v.a,jw.9,3k.a,lz.1n,1.3,1.4,24.19,1.f,qq.d,25f.a"},"ccc":"lc.l.6e,0.1.6g,0.4.64,0.1.6g,0.1.60,0.5.64,0.2.5m,0.4.64,0.2.5m,0.b.64,0.5.1,0.4.64,0.8.6e,0.1.6o,0.1.6e,0.3.64,0.3.6e,0.2.64,1.3.6e,0.4.64,0.1.6e,0.1.6g,0.2.64,0.1.6e,0.1.6h,0.2.6i,0.1.6h,0.2.6i,0.1.6h,0.d.6e,7n.5.6e,7d.1.64,0.4.6e,0.1.64,0.3.6e,0.1.66,0.1.64,0.6.6e,0.6.64,0.2.6e,0.1.64,0.2.6e,0.1.66,0.1.6c,0.1.6e,0.1.a,0.1.b,0.1.c,0.1.d,0.1.e,0.1.f,0.1.g,0.1.h,0.1.i,0.2.j,0.1.k,0.1.l,0.1.m,1.1.n,1.1.o,0.1.p,1.1.6e,0.1.64,1.1.i,20.8.6e,0.1.u,0.1.v,0.1.w,1c.1.r,0.1.s,0.1.t,0.1.u,0.1.v,0.1.w,0.1.x,0.1.y,0.2.6e,0.2.64,0.5.6e,0.1.64,0.2.6e,0.1.64,g.1.z,2t.7.6e,2.4.6e,0.1.64,0.1.6e,2.2.6e,1.1.64,0.2.6e,0.1.64,z.1.10,u.1.6e,0.1.64,0.2.6e,0.1.64,0.2.6e,0.3.64,0.1.6e,0.2.64,0.1.6e,0.1.64,0.3.6e,0.1.64,0.1.6e,0.1.64,0.1.6e,0.1.64,0.1.6e,0.1.64,0.2.6e,4g.7.6e,0.1.64,0.1.6e,y.4.6e,1.9.6e,1.3.6e,1.5.6e,17.3.64,3c.e.6e,1.1.64,0.2.6e,0.1.64,0.2.6e,0.1.64,0.3.6e,0.3.64,0.1.r,0.1.s,0.1.t,0.3.6e,0.1.64,0.2.6e,0.2.64,0.5.6e,1o.1.7,g.1.9,3.1.6e,0.1.64,0.2.6e,2v.1.7,g.1.9,32.1.7,g.1.9,32.1.7,g.1.9,32.1.7,g.1.9,3j.1.9,3j.1.9,7.1.2c,0.1.2j,2t.1.7,g.1.9,3j.1.9,3g.1.9,31.2.2v,0.1.9,d.4.2z,30.2.3a,e.4.3e,24.2.64,r.1.64,1.1.64,1.1.60,1j.1.3l,0.1.3m,1.1.3o,5.4.3m,2.1.3m,1.2.6e,0.1.9,1.2.6e,1q.1.64,34.1.7,1.2.9,2a.1.64,jz.3.6e,qc.1.9,v.1.9,4d.1.9,a.1.6e,5n.1.6c,3z.1.66,0.1.6e,0.1.64,63.1.6e,0.1.64,1z.1.9,k.8.6e,2.1.64,1c.5.6e,0.6.64,0.2.6e,0.1.64,3a.1.7,f.1.9,12.1.6e,0.1.64,0.7.6e,1i.2.9,1m.1.7,b.2.9,1v.1.7,48.3.6e,1.1.1,0.5.64,0.2.6e,0.4.64,0.1.6e,1.7.1,4.1.64,6.1.6e,3.2.6e,5i.2.6e,0.1.64,0.7.6e,0.1.64,0.2.6e,0.1.6i,0.1.5y,0.1.64,0.1.5m,0.11.6e,5.1.6e,0.1.6h,0.1.64,0.1.6e,0.1.64,k0.2.6e,0.2.1,0.4.6e,0.3.1,0.2.6e,4.1.6e,3.2.1,0.1.6e,0.1.64,0.1.6e,0.2.1,0.4.64,0.1.6e,2da.3.6e,3x.1.9,2o.w.6e,fe.1.62,0.1.6c,0.1.6g,0.1.66,0.2.68,2x.2.8,n9w.1.6e,4.a.6e,w.2.6e,28.2.6e,7o.1.9,59.1.9,r.i.6e,1l.3.64,11.1.9,2n.1.7,c.1.9,6n.1.6e,1.2.6e,0.1.64,2.2.6e,5.2.6e,1.1.6e,1g.1.9,6u.1.9,fn4.1.q,ld.7.6e,0.7.64,0.2.6e,r1.1.64,6a.1.64,45.5.6e,1aq.1.64,1.1.6e,14.1.6e,0.1.1,0.1.64,4.1.9,4l.1.6e,0.1.64,127.1.9,1k.1.9,1l.1.9,0.1.7,1x.3.6e,1c.2.9,1q.1.7,24.1.9,9.1.7,2y.1.9,0.1.7,4y.1.7,0.1.9,29.1.7,g.1.9,o.7.6e,3.5.6e,5p.1.9,3.1.7,3f.1.9,0.1.7,6z.1.9,0.1.7,3i.1.9,3a.1.9,0.1.7,37.1.9,103.1.9,fjk.5.1,1n.7.6e,g2v.1.1,43q.2.60,0.3.1,3.1.6a,0.5.60,8.8.64,2.5.6e,0.2.64,u.4.6e,44.3.6e,2pn.7.6e,1.h.6e,2.7.6e,1.2.6e,1.5.6e,1ph.7.64,31.6.6e,0.1.7","compose":"1o.mw.6su,1.mw.6sg,1.mw.6sv,3.lc.5c,0.ld.5d,0.le.5e,0.lf.5f,0.lg.74,0.li.76,0.lj.fa,0.lk.5g,0.ll.61u,0.lm.5h,0.lo.ct,0.lr.e8,0.lt.ea,0.mb.61s,0.md.5xc,0.mg.78,1.lj.5xe,0.mb.5xg,0.mp.5xi,1.ld.7a,0.le.7c,0.lj.7e,0.lo.7g,0.mf.5j,1.lj.5xm,0.lo.7i,0.mb.5xo,0.mf.5xs,0.ml.5xu,0.mp.5xq,1.lc.5k,0.ld.5l,0.le.5m,0.lf.62k,0.lg.7m,0.li.7o,0.lj.7q,0.lk.5n,0.ll.62i,0.lo.7u,0.lr.ec,0.lt.ee,0.mb.62g,0.mf.fc,0.mg.7s,0.ml.5y0,0.mo.5y2,1.lj.5y6,1.ld.dw,0.le.7w,0.lg.5y8,0.li.7y,0.lj.80,0.lo.di,0.mf.82,1.le.84,0.lj.5ya,0.lk.5ye,0.lo.f2,0.mb.5yc,0.mf.5yg,0.mm.5yi,1.lc.5o,0.ld.5p,0.le.5q,0.lf.88,0.lg.8a,0.li.8c,0.lj.8g,0.lk.5r,0.ll.62w,0.lo.cv,0.lr.eg,0.lt.ei,0.mb.62y,0.mg.8e,0.mo.5yk,1.le.8k,1.ld.5yo,0.lo.dk,0.mb.5yq,0.mf.8m,0.mp.5ys,1.ld.8p,0.lo.8t,0.mb.5yu,0.mf.8r,0.ml.5z0,0.mp.5yy,1.ld.5z2,0.lj.5z4,0.mb.5z6,1.lc.e0,0.ld.8z,0.lf.5t,0.lj.5z8,0.lo.93,0.mb.5za,0.mf.91,0.ml.5ze,0.mp.5zc,1.lc.5u,0.ld.5v,0.le.5w,0.lf.5x,0.lg.98,0.li.9a,0.lj.fi,0.lk.5y,0.ll.632,0.ln.9c,0.lo.cx,0.lr.ek,0.lt.em,0.m3.bk,0.mb.630,0.mg.dm,1.ld.5zo,0.lj.5zq,2.ld.9g,0.lj.5zs,0.lo.9k,0.lr.eo,0.lt.eq,0.mb.5zu,0.mf.9i,0.mp.5zy,1.ld.9m,0.le.9o,0.lj.600,0.lo.9s,0.mb.602,0.me.ew,0.mf.9q,1.lj.60a,0.lo.9w,0.mb.60c,0.me.ey,0.mf.9u,0.ml.60g,0.mp.60e,1.lc.61,0.ld.62,0.le.63,0.lf.a0,0.lg.a2,0.li.a4,0.lk.64,0.ll.63q,0.lm.a6,0.ln.a8,0.lo.cz,0.lr.es,0.lt.eu,0.m3.bz,0.mb.63o,0.mc.60i,0.mg.aa,0.ml.60m,0.mo.60k,1.lf.60s,0.mb.60u,1.lc.60w,0.ld.60y,0.le.ac,0.lj.612,0.lk.610,0.mb.614,1.lj.616,0.lk.618,1.lc.642,0.ld.65,0.le.ae,0.lf.648,0.lg.fm,0.lj.61a,0.lk.ag,0.ll.646,0.mb.644,1.ld.ah,0.le.61c,0.lj.aj,0.lo.al,0.mb.61e,0.mp.61g,7.lc.68,0.ld.69,0.le.6a,0.lf.6b,0.lg.75,0.li.77,0.lj.fb,0.lk.6c,0.ll.61v,0.lm.6d,0.lo.cu,0.lr.e9,0.lt.eb,0.mb.61t,0.md.5xd,0.mg.79,1.lj.5xf,0.mb.5xh,0.mp.5xj,1.ld.7b,0.le.7d,0.lj.7f,0.lo.7h,0.mf.6f,1.lj.5xn,0.lo.7j,0.mb.5xp,0.mf.5xt,0.ml.5xv,0.mp.5xr,1.lc.6g,0.ld.6h,0.le.6i,0.lf.62l,0.lg.7n,0.li.7p,0.lj.7r,0.lk.6j,0.ll.62j,0.lo.7v,0.lr.ed,0.lt.ef,0.mb.62h,0.mf.fd,0.mg.7t,0.ml.5y1,0.mo.5y3,1.lj.5y7,1.ld.dx,0.le.7x,0.lg.5y9,0.li.7z,0.lj.81,0.lo.dj,0.mf.83,1.le.85,0.lj.5yb,0.lk.5yf,0.lo.f3,0.mb.5yd,0.mf.5yh,0.mm.5yj,0.mp.61i,1.lc.6k,0.ld.6l,0.le.6m,0.lf.89,0.lg.8b,0.li.8d,0.lk.6n,0.ll.62x,0.lo.cw,0.lr.eh,0.lt.ej,0.mb.62z,0.mg.8f,0.mo.5yl,1.le.8l,0.lo.ds,1.ld.5yp,0.lo.dl,0.mb.5yr,0.mf.8n,0.mp.5yt,1.ld.8q,0.lo.8u,0.mb.5yv,0.mf.8s,0.ml.5z1,0.mp.5yz,1.ld.5z3,0.lj.5z5,0.mb.5z7,1.lc.e1,0.ld.90,0.lf.6p,0.lj.5z9,0.lo.94,0.mb.5zb,0.mf.92,0.ml.5zf,0.mp.5zd,1.lc.6q,0.ld.6r,0.le.6s,0.lf.6t,0.lg.99,0.li.9b,0.lj.fj,0.lk.6u,0.ll.633,0.ln.9d,0.lo.cy,0.lr.el,0.lt.en,0.m3.bl,0.mb.631,0.mg.dn,1.ld.5zp,0.lj.5zr,2.ld.9h,0.lj.5zt,0.lo.9l,0.lr.ep,0.lt.er,0.mb.5zv,0.mf.9j,0.mp.5zz,1.ld.9n,0.le.9p,0.lj.601,0.lo.9t,0.mb.603,0.me.ex,0.mf.9r,1.lj.60b,0.lk.61j,0.lo.9x,0.mb.60d,0.me.ez,0.mf.9v,0.ml.60h,0.mp.60f,1.lc.6x,0.ld.6y,0.le.6z,0.lf.a1,0.lg.a3,0.li.a5,0.lk.70,0.ll.63r,0.lm.a7,0.ln.a9,0.lo.d0,0.lr.et,0.lt.ev,0.m3.c0,0.mb.63p,0.mc.60j,0.mg.ab,0.ml.60n,0.mo.60l,1.lf.60t,0.mb.60v,1.lc.60x,0.ld.60z,0.le.ad,0.lj.613,0.lk.611,0.lm.61k,0.mb.615,1.lj.617,0.lk.619,1.lc.643,0.ld.71,0.le.af,0.lf.649,0.lg.fn,0.lj.61b,0.lk.73,0.ll.647,0.lm.61l,0.mb.645,1.ld.ai,0.le.61d,0.lj.ak,0.lo.am,0.mb.61f,0.mp.61h,1a.lc.6b1,0.ld.p1,0.n6.69t,q.lc.61y,0.ld.61w,0.lf.622,0.ll.620,2.lg.da,1.ld.e2,1.ld.e4,0.lg.de,1.ld.5xk,3.lc.62o,0.ld.62m,0.lf.62s,0.ll.62q,5.ld.5ym,5.lc.636,0.ld.634,0.lf.63a,0.ll.638,1.ld.5zg,0.lg.fg,0.lk.5zi,1.lg.fe,2.ld.e6,4.lc.d7,0.ld.d3,0.lg.d1,0.lo.d5,6.lc.61z,0.ld.61x,0.lf.623,0.ll.621,2.lg.db,1.ld.e3,1.ld.e5,0.lg.df,1.ld.5xl,3.lc.62p,0.ld.62n,0.lf.62t,0.ll.62r,5.ld.5yn,5.lc.637,0.ld.635,0.lf.63b,0.ll.639,1.ld.5zh,0.lg.fh,0.lk.5zj,1.lg.ff,2.ld.e7,4.lc.d8,0.ld.d4,0.lg.d2,0.lo.d6,6.lc.628,0.ld.626,0.lf.62c,0.ll.62a,1.lc.629,0.ld.627,0.lf.62d,0.ll.62b,f.lc.5xw,0.ld.5xy,1.lc.5xx,0.ld.5xz,1l.lc.5zk,0.ld.5zm,1.lc.5zl,0.ld.5zn,d.lj.604,1.lj.605,5.lj.606,1.lj.607,7.ld.60o,1.ld.60p,1.lk.60q,1.lk.60r,k.lj.61n,x.lc.63g,0.ld.63e,0.lf.63k,0.ll.63i,0.mb.63m,1.lc.63h,0.ld.63f,0.lf.63l,0.ll.63j,0.mb.63n,e.lc.63u,0.ld.63s,0.lf.63y,0.ll.63w,0.mb.640,1.lc.63v,0.ld.63t,0.lf.63z,0.ll.63x,0.mb.641,7.lo.dq,1f.lg.do,1.lg.dp,1n.lg.dc,1.lg.dd,1.li.5y4,1.li.5y5,5.lg.fk,1.lg.fl,2r.lo.dr,73.lc.69m,0.ld.p2,0.lg.69l,0.li.69k,0.lv.64o,0.lw.64p,0.n9.69o,4.lc.6a0,0.ld.p4,0.lv.654,0.lw.655,2.lc.6a2,0.ld.p5,0.lv.65k,0.lw.65l,0.n9.6a4,2.lc.6ai,0.ld.p6,0.lg.6ah,0.li.6ag,0.lk.q2,0.lv.660,0.lw.661,6.lc.6bc,0.ld.p8,0.lv.66g,0.lw.66h,2.lw.6b0,4.lc.6ay,0.ld.pa,0.lg.6ax,0.li.6aw,0.lk.q3,0.lw.66x,4.lc.6be,0.ld.pb,0.lv.67c,0.lw.67d,0.n9.6bg,3.n9.69g,2.n9.69w,3.lc.67k,0.ld.q4,0.lg.69d,0.li.69c,0.lv.64g,0.lw.64h,0.n6.69i,0.n9.69f,4.lc.67m,0.ld.q5,0.lv.64w,0.lw.64x,2.lc.67o,0.ld.q6,0.lv.65c,0.lw.65d,0.n6.69y,0.n9.69v,2.lc.67q,0.ld.q7,0.lg.6a9,0.li.6a8,0.lk.qy,0.lv.65s,0.lw.65t,0.n6.6ae,6.lc.67s,0.ld.r0,0.lv.668,0.lw.669,2.lv.6as,0.lw.6at,4.lc.67u,0.ld.r1,0.lg.6ap,0.li.6ao,0.lk.qz,0.lv.66o,0.lw.66p,0.n6.6au,4.lc.67w,0.ld.r2,0.lv.674,0.lw.675,0.n6.6ba,0.n9.6b7,1.lc.6aa,0.ld.pc,0.n6.6af,1.lc.6aq,0.ld.q8,0.n6.6av,3.n9.6b8,4.ld.r7,0.lk.r8,1g.lk.sn,a.li.y8,0.lk.ya,3.ld.sj,2.lc.sg,0.li.ye,0.lk.sh,1.li.xt,0.lk.yk,1.lk.ym,1.lc.st,0.lg.yq,0.li.t5,0.lk.ys,2.ld.ss,4.lk.yu,5.lg.z2,0.li.su,0.lk.z4,0.ln.z6,4.lk.z8,4.lk.zc,2.lk.z0,3.li.y9,0.lk.yb,3.ld.ur,2.lc.uo,0.li.yf,0.lk.up,1.li.xu,0.lk.yl,1.lk.yn,1.lc.v1,0.lg.yr,0.li.u1,0.lk.yt,2.ld.v0,4.lk.yv,5.lg.z3,0.li.v2,0.lk.z5,0.ln.z7,4.lk.z9,4.lk.zd,2.lk.z1,9.lk.uv,u.lr.vq,1.lr.vr,2r.lk.yi,1.lk.yj,f.lk.yy,1.lk.yz,8u.18z.17m,0.190.17n,0.191.17p,x.190.17o,2.190.17q,3b.190.1c2,h.190.1cj,3.190.1c0,gj.1to.1t5,8.1to.1td,3.1to.1tg,44.1xa.1xn,0.1xz.1xo,ao.27y.28b,0.28m.288,0.28n.28c,23.2c7.2ac,1g.2bi.2bu,0.2c7.2bw,1.2bi.2bv,3j.2fq.2fc,3d.2j9.2io,7.2iq.2iy,0.2j9.2iv,0.2ja.2iw,4.2j9.2iz,3g.2m6.2mi,0.2mv.2mk,1.2m6.2mj,42.2q2.2qi,0.2q7.2qk,0.2qn.2qm,3.2q2.2ql,g9.372.36u,25c.5dh.5c6,2.5dh.5c8,2.5dh.5ca,2.5dh.5cc,2.5dh.5ce,4.5dh.5ci,15.5dh.5dn,2.5dh.5dp,2.5dh.5ds,1.5dh.5dt,3.5dh.5dv,l0.lg.5yw,1.lg.5yx,z.lg.5zw,1.lg.5zx,7.lj.608,1.lj.609,1p.le.624,0.li.62e,1.le.625,0.li.62f,n.le.62u,1.le.62v,j.le.63c,1.le.63d,1f.lc.64i,0.ld.64k,0.n6.64m,0.n9.680,1.lc.64j,0.ld.64l,0.n6.64n,0.n9.681,1.n9.682,1.n9.683,1.n9.684,1.n9.685,1.n9.686,1.n9.687,1.lc.64q,0.ld.64s,0.n6.64u,0.n9.688,1.lc.64r,0.ld.64t,0.n6.64v,0.n9.689,1.n9.68a,1.n9.68b,1.n9.68c,1.n9.68d,1.n9.68e,1.n9.68f,1.lc.64y,0.ld.650,1.lc.64z,0.ld.651,7.lc.656,0.ld.658,1.lc.657,0.ld.659,7.lc.65e,0.ld.65g,0.n6.65i,0.n9.68g,1.lc.65f,0.ld.65h,0.n6.65j,0.n9.68h,1.n9.68i,1.n9.68j,1.n9.68k,1.n9.68l,1.n9.68m,1.n9.68n,1.lc.65m,0.ld.65o,0.n6.65q,0.n9.68o,1.lc.65n,0.ld.65p,0.n6.65r,0.n9.68p,1.n9.68q,1.n9.68r,1.n9.68s,1.n9.68t,1.n9.68u,1.n9.68v,1.lc.65u,0.ld.65w,0.n6.65y,1.lc.65v,0.ld.65x,0.n6.65z,7.lc.662,0.ld.664,0.n6.666,1.lc.663,0.ld.665,0.n6.667,7.lc.66a,0.ld.66c,1.lc.66b,0.ld.66d,7.lc.66i,0.ld.66k,1.lc.66j,0.ld.66l,7.lc.66q,0.ld.66s,0.n6.66u,1.lc.66r,0.ld.66t,0.n6.66v,8.lc.66z,0.ld.671,0.n6.673,7.lc.676,0.ld.678,0.n6.67a,0.n9.68w,1.lc.677,0.ld.679,0.n6.67b,0.n9.68x,1.n9.68y,1.n9.68z,1.n9.690,1.n9.691,1.n9.692,1.n9.693,1.lc.67e,0.ld.67g,0.n6.67i,0.n9.694,1.lc.67f,0.ld.67h,0.n6.67j,0.n9.695,1.n9.696,1.n9.697,1.n9.698,1.n9.699,1.n9.69a,1.n9.69b,1.n9.69e,4.n9.69u,8.n9.6b6,1m.n9.69j,9.lc.6a5,0.ld.6a6,0.n6.6a7,7.n9.69z,1c.n9.6bb,8.lc.6al,0.ld.6am,0.n6.6an,b6.mw.6my,2.mw.6mz,2.mw.6ni,1o.mw.6od,2.mw.6of,2.mw.6oe,1b.mw.6pw,5.mw.6q1,3.mw.6q4,o.mw.6qs,2.mw.6qu,n.mw.6rl,7.mw.6ro,2.mw.6rr,3.mw.6rt,5.mw.6st,k.mw.6si,3.mw.6sw,1.mw.6sx,d.mw.6t0,1.mw.6t1,3.mw.6t4,1.mw.6t5,3.mw.6tc,1.mw.6td,1.mw.6w0,1.mw.6w1,5.mw.6tg,1.mw.6th,3.mw.6tk,1.mw.6tl,a.mw.6w2,1.mw.6w3,g.mw.6uk,6.mw.6ul,1.mw.6um,2.mw.6un,7.mw.6wa,1.mw.6wb,1.mw.6wc,1.mw.6wd,2oh.9ll.9lg,5.9ll.9jg,2.9ll.9ji,2.9ll.9jk,2.9ll.9jm,2.9ll.9jo,2.9ll.9jq,2.9ll.9js,2.9ll.9ju,2.9ll.9jw,2.9ll.9jy,2.9ll.9k0,2.9ll.9k2,3.9ll.9k5,2.9ll.9k7,2.9ll.9k9,7.9ll.9kg,0.9lm.9kh,3.9ll.9kj,0.9lm.9kk,3.9ll.9km,0.9lm.9kn,3.9ll.9kp,0.9lm.9kq,3.9ll.9ks,0.9lm.9kt,y.9ll.9lq,9.9ll.9o4,5.9ll.9m4,2.9ll.9m6,2.9ll.9m8,2.9ll.9ma,2.9ll.9mc,2.9ll.9me,2.9ll.9mg,2.9ll.9mi,2.9ll.9mk,2.9ll.9mm,2.9ll.9mo,2.9ll.9mq,3.9ll.9mt,2.9ll.9mv,2.9ll.9mx,7.9ll.9n4,0.9lm.9n5,3.9ll.9n7,0.9lm.9n8,3.9ll.9na,0.9lm.9nb,3.9ll.9nd,0.9lm.9ne,3.9ll.9ng,0.9lm.9nh,k.9ll.9o7,1.9ll.9o8,1.9ll.9o9,1.9ll.9oa,b.9ll.9oe,1864.1hve.1hui,2.1hve.1huk,a.1hve.1huz,3w.1hyf.1hym,1.1hyf.1hyn,et.1ida.1idn,0.1idz.1ido,aa.1ink.1inw,0.1inu.1inv,0.1inx.1iny,73.1iun.1iuy,1.1iun.1iuz","lower":"1t.q.1.w,2u.n.1.w,2.7.1.w,y.o.2.1,4.3.2.1,3.8.2.1,3.n.2.1,2.1.1.-3d,1.3.2.1,4.1.1.5u,1.2.2.1,2.1.1.5q,1.1.1.1,2.2.1.5p,1.1.1.1,3.1.1.27,1.1.1.5m,1.1.1.5n,1.1.1.1,2.1.1.5p,1.1.1.5r,2.1.1.5v,1.1.1.5t,1.1.1.1,4.1.1.5v,1.1.1.5x,2.1.1.5y,1.3.2.1,2.1.1.62,1.1.1.1,2.1.1.62,3.1.1.1,2.1.1.62,1.1.1.1,2.2.1.61,1.2.2.1,2.1.1.63,1.1.1.1,4.1.1.1,8.1.1.2,1.1.1.1,2.1.1.2,1.1.1.1,2.1.1.2,1.9.2.1,3.9.2.1,3.1.1.2,1.2.2.1,2.1.1.-2p,1.1.1.-1k,1.k.2.1,2.1.1.-3m,2.9.2.1,8.1.1.8bv,1.1.1.1,2.1.1.-4j,1.1.1.8bs,3.1.1.1,2.1.1.-5f,1.1.1.1x,1.1.1.1z,1.5.2.1,82.2.2.1,4.1.1.1,9.1.1.38,7.1.1.12,2.3.1.11,2.1.1.1s,2.2.1.1r,2.h.1.w,2.9.1.w,10.1.1.8,9.c.2.1,6.1.1.-1o,3.1.1.1,2.1.1.-7,1.1.1.1,3.3.1.-3m,1.g.1.28,1.w.1.w,1d.h.2.1,a.r.2.1,2.1.1.f,1.7.2.1,3.1c.2.1,3.12.1.1c,28a.12.1.5ls,2.1.1.5ls,6.1.1.5ls,k3.28.1.tzk,1.6.1.8,1p0.1.1.1,7.17.1.-2bk,3.3.1.-2bk,8x.23.2.1,a.1.1.-5vj,2.1c.2.1,a.8.1.-8,9.6.1.-8,b.8.1.-8,9.8.1.-8,9.6.1.-8,c.4.2.-8,9.8.1.-8,p.8.1.-8,9.8.1.-8,9.8.1.-8,9.2.1.-8,1.2.1.-22,1.1.1.-9,c.4.1.-2e,1.1.1.-9,c.2.1.-8,1.2.1.-2s,d.2.1.-8,1.2.1.-34,1.1.1.-7,c.2.1.-3k,1.2.1.-3i,1.1.1.-9,8a.1.1.-5st,4.1.1.-6gv,1.1.1.-6di,7.1.1.s,1a.g.1.g,k.1.1.1,mr.q.1.q,1f5.1c.1.1c,1d.1.1.1,2.1.1.-8af,1.1.1.-2xy,1.1.1.-89z,3.3.2.1,2.1.1.-8bg,1.1.1.-8al,1.1.1.-8bj,1.1.1.-8bi,2.1.1.1,3.1.1.1,9.2.1.-8cf,1.1e.2.1,9.2.2.1,5.1.1.1,nym.n.2.1,k.e.2.1,3s.7.2.1,4.v.2.1,b.2.2.1,2.1.1.-r9g,1.5.2.1,5.1.1.1,2.1.1.-wmg,3.2.2.1,4.a.2.1,2.1.1.-wn8,1.1.1.-wnj,1.1.1.-wnf,1.1.1.-wn5,1.1.1.-wn8,2.1.1.-wlu,1.1.1.-wmi,1.1.1.-wlx,1.1.1.ps,1.8.2.1,2.1.1.-1c,1.1.1.-wn7,1.1.1.-raw,1.2.2.1,2.1.1.-wo7,1.8.2.1,2.1.1.-wu9,p.1.1.1,h7w.q.1.w,xy.14.1.14,3t.10.1.14,4d.b.1.13,2.f.1.13,2.7.1.13,2.2.1.13,1d7.1f.1.1s,4e.m.1.w,27v.w.1.w,gw1.w.1.w,1t.p.1.r,o5k.y.1.y","lowerMulti":[[304,[105,775]]],"decompExceptions":{"nfd":[[67017,[67017]],[67044,[67044]],[70531,[70531]],[70533,[70533]],[70542,[70542]],[70545,[70545]],[70597,[70597]],[70599,[70599]],[70600,[70600]],[71992,[71992]],[90401,[90401]],[90402,[90402]],[90403,[90403]],[90404,[90404]],[90405,[90405]],[90406,[90406]],[90407,[90407]],[90408,[90408]],[93544,[93544]],[93545,[93545]],[93546,[93546]]],"nfkd":[[13055,[13055]],[42993,[42993]],[42994,[42994]],[42995,[42995]],[42996,[42996]],[43881,[43881]],[67017,[67017]],[67044,[67044]],[67457,[67457]],[67458,[67458]],[67459,[67459]],[67460,[67460]],[67461,[67461]],[67463,[67463]],[67464,[67464]],[67465,[67465]],[67466,[67466]],[67467,[67467]],[67468,[67468]],[67469,[67469]],[67470,[67470]],[67471,[67471]],[67472,[67472]],[67473,[67473]],[67474,[67474]],[67475,[67475]],[67476,[67476]],[67477,[67477]],[67478,[67478]],[67479,[67479]],[67480,[67480]],[67481,[67481]],[67482,[67482]],[67483,[67483]],[67484,[67484]],[67485,[67485]],[67486,[67486]],[67487,[67487]],[67488,[67488]],[67489,[67489]],[67490,[67490]],[67491,[67491]],[67492,[67492]],[67493,[67493]],[67494,[67494]],[67495,[67495]],[67496,[67496]],[67497,[67497]],[67498,[67498]],[67499,[67499]],[67500,[67500]],[67501,[67501]],[67502,[67502]],[67503,[67503]],[67504,[67504]],[67506,[67506]],[67507,[67507]],[67508,[67508]],[67509,[67509]],[67510,[67510]],[67511,[67511]],[67512,[67512]],[67513,[67513]],[67514,[67514]],[70531,[70531]],[70533,[70533]],[70542,[70542]],[70545,[70545]],[70597,[70597]],[70599,[70599]],[70600,[70600]],[71992,[71992]],[90401,[90401]],[90402,[90402]],[90403,[90403]],[90404,[90404]],[90405,[90405]],[90406,[90406]],[90407,[90407]],[90408,[90408]],[93544,[93544]],[93545,[93545]],[93546,[93546]],[117974,[117974]],[117975,[117975]],[117976,[117976]],[117977,[117977]],[117978,[117978]],[117979,[117979]],[117980,[117980]],[117981,[117981]],[117982,[117982]],[117983,[117983]],[117984,[117984]],[117985,[117985]],[117986,[117986]],[117987,[117987]],[117988,[117988]],[117989,[117989]],[117990,[117990]],[117991,[117991]],[117992,[117992]],[117993,[117993]],[117994,[117994]],[117995,[117995]],[117996,[117996]],[117997,[117997]],[117998,[117998]],[117999,[117999]],[118000,[118000]],[118001,[118001]],[118002,[118002]],[118003,[118003]],[118004,[118004]],[118005,[118005]],[118006,[118006]],[118007,[118007]],[118008,[118008]],[118009,[118009]],[122928,[122928]],[122929,[122929]],[122930,[122930]],[122931,[122931]],[122932,[122932]],[122933,[122933]],[122934,[122934]],[122935,[122935]],[122936,[122936]],[122937,[122937]],[122938,[122938]],[122939,[122939]],[122940,[122940]],[122941,[122941]],[122942,[122942]],[122943,[122943]],[122944,[122944]],[122945,[122945]],[122946,[122946]],[122947,[122947]],[122948,[122948]],[122949,[122949]],[122950,[122950]],[122951,[122951]],[122952,[122952]],[122953,[122953]],[122954,[122954]],[122955,[122955]],[122956,[122956]],[122957,[122957]],[122958,[122958]],[122959,[122959]],[122960,[122960]],[122961,[122961]],[122962,[122962]],[122963,[122963]],[122964,[122964]],[122965,[122965]],[122966,[122966]],[122967,[122967]],[122968,[122968]],[122969,[122969]],[122970,[122970]],[122971,[122971]],[122972,[122972]],[122973,[122973]],[122974,[122974]],[122975,[122975]],[122976,[122976]],[122977,[122977]],[122978,[122978]],[122979,[122979]],[122980,[122980]],[122981,[122981]],[122982,[122982]],[122983,[122983]],[122984,[122984]],[122985,[122985]],[122986,[122986]],[122987,[122987]],[122988,[122988]],[122989,[122989]],[127340,[127340]],[130032,[130032]],[130033,[130033]],[130034,[130034]],[130035,[130035]],[130036,[130036]],[130037,[130037]],[130038,[130038]],[130039,[130039]],[130040,[130040]],[130041,[130041]]]}};

const F = {
  other: 1, // unicode_categories is_other (Cc, Cf, Cn, Co, ...): BertNormalizer clean_text removes these
  mark: 2, // unicode-normalization-alignments is_combining_mark (General_Category M, Unicode 9.0): StripAccents
  mn: 4, // unicode_categories is_mark_nonspacing: BertNormalizer strip_accents
  punct: 8, // is_ascii_punctuation || unicode_categories is_punctuation: BertPreTokenizer, Punctuation
  ws: 16, // Rust char::is_whitespace
  L: 32, // \p{L} of the ByteLevel regex (Oniguruma)
  N: 64, // \p{N} of the ByteLevel regex
  S: 128, // \s of the ByteLevel regex
  W: 256, // \w of the regex crate (Whitespace pre-tokenizer, single_word added tokens)
  numeric: 512, // Rust char::is_numeric (Digits)
};
const FLAG_NAMES = Object.keys(F);
let BMP = null; // Uint16Array of flags for U+0000..U+FFFF
const ASTRAL = {}; // flag -> Int32Array [start0, end0, start1, end1, ...] of ranges above U+FFFF
let CCC = null; // Map code point -> canonical combining class (Unicode 9.0)
let COMPOSE = null; // Map a * 0x110000 + b -> composite (Unicode 9.0 composition table)
let LOWER = null; // Map code point -> array of code points (Rust char::to_lowercase), only where it changes
let DECOMP_EXC = null; // {nfd: Map, nfkd: Map}: code point -> decomposition where the engine disagrees with 9.0

function decodeRanges(text) {
  // "gap.len,gap.len,..." in base 36, gaps from the previous range's end
  const out = [];
  let pos = 0;
  if (!text) return out;
  for (const part of text.split(',')) {
    const [g, l] = part.split('.');
    const start = pos + parseInt(g, 36);
    const end = start + parseInt(l, 36);
    out.push(start, end);
    pos = end;
  }
  return out;
}

function initUnicode() {
  if (BMP) return;
  const bmp = new Uint16Array(0x10000);
  for (const name of FLAG_NAMES) {
    const bit = F[name];
    const ranges = decodeRanges(UNICODE_DATA.sets[name]);
    const astral = [];
    for (let i = 0; i < ranges.length; i += 2) {
      const s = ranges[i];
      const e = ranges[i + 1];
      for (let c = s; c < Math.min(e, 0x10000); c++) bmp[c] |= bit;
      if (e > 0x10000) astral.push(Math.max(s, 0x10000), e);
    }
    ASTRAL[bit] = Int32Array.from(astral);
  }
  const ccc = new Map();
  for (const part of UNICODE_DATA.ccc.split(',')) {
    // "gap.len.class": runs of code points sharing a class
    const [g, l, k] = part.split('.').map((x) => parseInt(x, 36));
    const start = (ccc.lastEnd || 0) + g;
    for (let c = start; c < start + l; c++) ccc.set(c, k);
    ccc.lastEnd = start + l;
  }
  const compose = new Map();
  let a = 0;
  for (const part of UNICODE_DATA.compose.split(',')) {
    // "da.b.c": first code point as a delta from the previous one
    const [da, b, c] = part.split('.').map((x) => parseInt(x, 36));
    a += da;
    compose.set(a * 0x110000 + b, c);
  }
  const lower = new Map();
  let pos = 0;
  for (const part of UNICODE_DATA.lower.split(',')) {
    // "gap.count.step.delta": count code points from pos+gap, step apart, each lowered to itself+delta
    const [g, n, step, d] = part.split('.').map((x) => (x[0] === '-' ? -parseInt(x.slice(1), 36) : parseInt(x, 36)));
    let c = pos + g;
    for (let i = 0; i < n; i++, c += step) lower.set(c, [c + d]);
    pos = c - step;
  }
  for (const [c, seq] of UNICODE_DATA.lowerMulti) lower.set(c, seq);
  const exc = { nfd: new Map(), nfkd: new Map() };
  for (const form of ['nfd', 'nfkd']) for (const [c, seq] of UNICODE_DATA.decompExceptions[form]) exc[form].set(c, seq);
  BMP = bmp;
  CCC = ccc;
  COMPOSE = compose;
  LOWER = lower;
  DECOMP_EXC = exc;
}

function has(c, bit) {
  if (c < 0x10000) return (BMP[c] & bit) !== 0;
  const r = ASTRAL[bit];
  let lo = 0;
  let hi = (r.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (c < r[2 * mid]) hi = mid - 1;
    else if (c >= r[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

const cccOf = (c) => (c < 0x300 ? 0 : CCC.get(c) || 0);

// Hangul syllables decompose and compose algorithmically (as in the Rust crate)
const S_BASE = 0xac00, L_BASE = 0x1100, V_BASE = 0x1161, T_BASE = 0x11a7;
const L_COUNT = 19, V_COUNT = 21, T_COUNT = 28, N_COUNT = V_COUNT * T_COUNT, S_COUNT = L_COUNT * N_COUNT;

const decompCache = { nfd: new Map(), nfkd: new Map() };
function decompose(c, form) {
  if (c < 0xc0) {
    if (form === 'nfd' || c < 0xa0) return null;
  }
  const cache = decompCache[form];
  const hit = cache.get(c);
  if (hit !== undefined) return hit;
  let res = DECOMP_EXC[form].get(c);
  if (res === undefined) {
    const s = String.fromCodePoint(c).normalize(form === 'nfd' ? 'NFD' : 'NFKD');
    const cps = Array.from(s, (x) => x.codePointAt(0));
    res = cps.length === 1 && cps[0] === c ? null : cps;
  } else if (res.length === 1 && res[0] === c) res = null;
  cache.set(c, res);
  return res;
}

function composePair(a, b) {
  if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE && b < V_BASE + V_COUNT) {
    return S_BASE + ((a - L_BASE) * N_COUNT + (b - V_BASE) * T_COUNT);
  }
  if (a >= S_BASE && a < S_BASE + S_COUNT && b > T_BASE && b < T_BASE + T_COUNT && (a - S_BASE) % T_COUNT === 0) {
    return a + (b - T_BASE);
  }
  const r = COMPOSE.get(a * 0x110000 + b);
  return r === undefined ? null : r;
}

// unicode-normalization-alignments' Decompositions: (char, change) with canonical reordering by combining
// class; the first character of a decomposition replaces the source one (change 0), the others are inserted (1).
function decomposeAll(cps, form) {
  const outC = [];
  const outK = [];
  const outX = [];
  let pending = 0;
  const sortPending = () => {
    const n = outC.length - pending;
    if (n < 2) {
      pending = outC.length;
      return;
    }
    const idx = [];
    for (let i = pending; i < outC.length; i++) idx.push(i);
    idx.sort((x, y) => outK[x] - outK[y] || x - y); // stable by class
    const c2 = idx.map((i) => outC[i]);
    const k2 = idx.map((i) => outK[i]);
    const x2 = idx.map((i) => outX[i]);
    for (let j = 0; j < idx.length; j++) {
      outC[pending + j] = c2[j];
      outK[pending + j] = k2[j];
      outX[pending + j] = x2[j];
    }
    pending = outC.length;
  };
  const push = (d, first) => {
    const k = cccOf(d);
    if (k === 0) sortPending();
    outC.push(d);
    outK.push(k);
    outX.push(first ? 0 : 1);
  };
  for (const c of cps) {
    if (c >= S_BASE && c < S_BASE + S_COUNT) {
      const si = c - S_BASE;
      push(L_BASE + Math.floor(si / N_COUNT), true);
      push(V_BASE + Math.floor((si % N_COUNT) / T_COUNT), false);
      if (si % T_COUNT !== 0) push(T_BASE + (si % T_COUNT), false);
      continue;
    }
    const d = decompose(c, form);
    if (d === null) push(c, true);
    else for (let i = 0; i < d.length; i++) push(d[i], i === 0);
  }
  sortPending();
  return [outC, outX];
}

// unicode-normalization-alignments' Recompositions over the decomposed stream (changes summed as in Rust).
function recomposeAll(cs, xs) {
  const outC = [];
  const outX = [];
  const emit = (c, x) => {
    outC.push(c);
    outX.push(x);
  };
  let composee = null; // [c, change]
  let lastCcc = null;
  let buffer = [];
  const flush = () => {
    for (const [c, x] of buffer) emit(c, x);
    buffer = [];
  };
  for (let i = 0; i < cs.length; i++) {
    const ch = cs[i];
    const change = xs[i];
    const chClass = cccOf(ch);
    if (composee === null) {
      if (chClass !== 0) {
        emit(ch, change);
        continue;
      }
      composee = [ch, change];
      continue;
    }
    if (lastCcc === null) {
      const r = composePair(composee[0], ch);
      if (r !== null) {
        composee = [r, composee[1] + change - 1];
        continue;
      }
      if (chClass === 0) {
        emit(composee[0], composee[1]);
        composee = [ch, change];
        continue;
      }
      buffer.push([ch, change]);
      lastCcc = chClass;
    } else {
      if (lastCcc >= chClass) {
        if (chClass === 0) {
          emit(composee[0], composee[1]);
          composee = [ch, change];
          lastCcc = null;
          flush(); // Purging: the blocked marks follow the emitted composee
          continue;
        }
        buffer.push([ch, change]);
        lastCcc = chClass;
        continue;
      }
      const r = composePair(composee[0], ch);
      if (r !== null) {
        composee = [r, composee[1] + change - 1];
        continue;
      }
      buffer.push([ch, change]);
      lastCcc = chClass;
    }
  }
  // Finished: the composee, then the buffered marks
  if (composee !== null) emit(composee[0], composee[1]);
  flush();
  return [outC, outX];
}

// ------------------------------------------------------------------------------------------------------------
// NormalizedString: normalized code points, each with the [start, end) range of the original it came from
// (absolute code point indices into the whole input sequence), and this piece's own original range.
// ------------------------------------------------------------------------------------------------------------
class NormalizedString {
  constructor(cps, as, ae, oStart, oEnd) {
    this.cps = cps;
    this.as = as;
    this.ae = ae;
    this.oStart = oStart;
    this.oEnd = oEnd;
  }

  static fromCodePoints(cps) {
    const n = cps.length;
    const as = new Array(n);
    const ae = new Array(n);
    for (let i = 0; i < n; i++) {
      as[i] = i;
      ae[i] = i + 1;
    }
    return new NormalizedString(cps, as, ae, 0, n);
  }

  get length() {
    return this.cps.length;
  }

  text() {
    return cpsToString(this.cps, 0, this.cps.length);
  }

  // normalizer.rs transform(): `changes` 0 replaces the next original char, > 0 inserts (alignment of the
  // previous char, or the empty start when there is none), < 0 replaces and removes that many more.
  transform(newCps, changes, initialOffset = 0) {
    const { as, ae } = this;
    const n = newCps.length;
    const nas = new Array(n);
    const nae = new Array(n);
    let idx = initialOffset;
    for (let k = 0; k < n; k++) {
      const ch = changes[k];
      if (ch > 0) {
        if (idx < 1) {
          nas[k] = this.oStart;
          nae[k] = this.oStart;
        } else {
          nas[k] = as[idx - 1];
          nae[k] = ae[idx - 1];
        }
      } else {
        nas[k] = as[idx];
        nae[k] = ae[idx];
        idx += 1 - ch;
      }
    }
    this.cps = newCps;
    this.as = nas;
    this.ae = nae;
  }

  // Keep the characters `keep` accepts, each with its own alignment.
  filter(keep) {
    const { cps, as, ae } = this;
    const c2 = [];
    const s2 = [];
    const e2 = [];
    for (let i = 0; i < cps.length; i++) {
      if (keep(cps[i])) {
        c2.push(cps[i]);
        s2.push(as[i]);
        e2.push(ae[i]);
      }
    }
    this.cps = c2;
    this.as = s2;
    this.ae = e2;
  }

  map(f) {
    this.cps = this.cps.map(f);
  }

  // Every character of the new text takes the first character's alignment (transform_range on the first char).
  prepend(str) {
    if (this.cps.length === 0) return;
    const add = Array.from(str, (x) => x.codePointAt(0));
    const s0 = this.as[0];
    const e0 = this.ae[0];
    this.cps = add.concat(this.cps);
    this.as = add.map(() => s0).concat(this.as);
    this.ae = add.map(() => e0).concat(this.ae);
  }

  lowercase() {
    const { cps, as, ae } = this;
    const c2 = [];
    const s2 = [];
    const e2 = [];
    for (let i = 0; i < cps.length; i++) {
      const c = cps[i];
      const low = c < 0x80 ? null : LOWER.get(c);
      if (low === undefined || low === null) {
        c2.push(c >= 0x41 && c <= 0x5a ? c + 32 : c);
        s2.push(as[i]);
        e2.push(ae[i]);
      } else {
        for (const l of low) {
          c2.push(l);
          s2.push(as[i]);
          e2.push(ae[i]);
        }
      }
    }
    this.cps = c2;
    this.as = s2;
    this.ae = e2;
  }

  unicodeNormalize(form) {
    // fast path: nothing to decompose, no marks to reorder
    let trivial = true;
    const compat = form === 'nfkd' || form === 'nfkc';
    for (const c of this.cps) {
      if (c >= (compat ? 0xa0 : 0xc0)) {
        trivial = false;
        break;
      }
    }
    if (trivial) return;
    let [cs, xs] = decomposeAll(this.cps, compat ? 'nfkd' : 'nfd');
    if (form === 'nfc' || form === 'nfkc') [cs, xs] = recomposeAll(cs, xs);
    this.transform(cs, xs, 0);
  }

  // normalizer.rs replace(): each match is replaced by `content`, all of whose characters take the alignment
  // of the match's last character (they are "inserted" after it).
  replace(matches, content) {
    const { cps, as, ae } = this;
    const add = Array.from(content, (x) => x.codePointAt(0));
    const c2 = [];
    const s2 = [];
    const e2 = [];
    let last = 0;
    for (let m = 0; m < matches.length; m += 3) {
      if (!matches[m + 2]) continue;
      const s = matches[m];
      const e = matches[m + 1];
      for (let i = last; i < s; i++) {
        c2.push(cps[i]);
        s2.push(as[i]);
        e2.push(ae[i]);
      }
      for (const c of add) {
        c2.push(c);
        if (e < 1) {
          s2.push(this.oStart);
          e2.push(this.oStart);
        } else {
          s2.push(as[e - 1]);
          e2.push(ae[e - 1]);
        }
      }
      last = e;
    }
    for (let i = last; i < cps.length; i++) {
      c2.push(cps[i]);
      s2.push(as[i]);
      e2.push(ae[i]);
    }
    this.cps = c2;
    this.as = s2;
    this.ae = e2;
  }

  strip(left, right) {
    const { cps } = this;
    let a = 0;
    let b = cps.length;
    if (left) while (a < b && has(cps[a], F.ws)) a++;
    if (right) while (b > a && has(cps[b - 1], F.ws)) b--;
    if (a === 0 && b === cps.length) return;
    this.cps = cps.slice(a, b);
    this.as = this.as.slice(a, b);
    this.ae = this.ae.slice(a, b);
  }

  // normalizer.rs slice() by a normalized range; the original range is that of the covered characters.
  slice(s, e) {
    if (s === e) return new NormalizedString([], [], [], this.oStart + s, this.oStart + e);
    return new NormalizedString(this.cps.slice(s, e), this.as.slice(s, e), this.ae.slice(s, e), this.as[s], this.ae[e - 1]);
  }

  // normalizer.rs split() with a SplitDelimiterBehavior, given find_matches output [s, e, isMatch, ...].
  split(matches, behavior) {
    let spans = []; // [s, e, remove]
    if (behavior === 'Isolated') {
      for (let i = 0; i < matches.length; i += 3) spans.push([matches[i], matches[i + 1], false]);
    } else if (behavior === 'Removed') {
      for (let i = 0; i < matches.length; i += 3) spans.push([matches[i], matches[i + 1], matches[i + 2]]);
    } else if (behavior === 'Contiguous') {
      let prev = false;
      for (let i = 0; i < matches.length; i += 3) {
        const isMatch = matches[i + 2];
        if (isMatch === prev && spans.length) spans[spans.length - 1][1] = matches[i + 1];
        else spans.push([matches[i], matches[i + 1], false]);
        prev = isMatch;
      }
    } else if (behavior === 'MergedWithPrevious') {
      let prev = false;
      for (let i = 0; i < matches.length; i += 3) {
        const isMatch = matches[i + 2];
        if (isMatch && !prev && spans.length) spans[spans.length - 1][1] = matches[i + 1];
        else spans.push([matches[i], matches[i + 1], false]);
        prev = isMatch;
      }
    } else if (behavior === 'MergedWithNext') {
      let prev = false;
      for (let i = matches.length - 3; i >= 0; i -= 3) {
        const isMatch = matches[i + 2];
        if (isMatch && !prev && spans.length) spans[spans.length - 1][0] = matches[i];
        else spans.push([matches[i], matches[i + 1], false]);
        prev = isMatch;
      }
      spans.reverse();
    } else {
      throw new TokenizerError(`unknown split behavior ${behavior}`);
    }
    const out = [];
    for (const [s, e, remove] of spans) if (!remove) out.push(this.slice(s, e));
    return out;
  }
}

function cpsToString(cps, s, e) {
  let out = '';
  for (let i = s; i < e; i += 4096) out += String.fromCodePoint(...cps.slice(i, Math.min(e, i + 4096)));
  return out;
}

function toCodePoints(str) {
  const out = [];
  for (let i = 0; i < str.length; i++) {
    const c = str.codePointAt(i);
    out.push(c);
    if (c > 0xffff) i++;
  }
  return out;
}

// pattern.rs find_matches for a char predicate: [s, e, isMatch, ...] with every matching char on its own
function matchChars(cps, pred) {
  if (cps.length === 0) return [0, 0, false];
  const out = [];
  let last = 0;
  for (let i = 0; i < cps.length; i++) {
    if (pred(cps[i])) {
      if (last < i) out.push(last, i, false);
      out.push(i, i + 1, true);
      last = i + 1;
    }
  }
  if (cps.length > last) out.push(last, cps.length, false);
  return out;
}

// find_matches from a list of match spans [s, e, s, e, ...] (regex semantics)
function spansToMatches(n, spans) {
  if (n === 0) return [0, 0, false];
  const out = [];
  let prev = 0;
  for (let i = 0; i < spans.length; i += 2) {
    if (prev !== spans[i]) out.push(prev, spans[i], false);
    out.push(spans[i], spans[i + 1], true);
    prev = spans[i + 1];
  }
  if (prev !== n) out.push(prev, n, false);
  return out;
}

function invert(matches) {
  const out = matches.slice();
  for (let i = 2; i < out.length; i += 3) out[i] = !out[i];
  return out;
}

// A JS regex standing for an Oniguruma pattern from tokenizer.json; spans in code points.
class JsPattern {
  constructor(spec, where) {
    if (spec && typeof spec.String === 'string') {
      this.literal = toCodePoints(spec.String);
    } else if (spec && typeof spec.Regex === 'string') {
      // Oniguruma's \s and \S are White_Space (JS \s also has U+FEFF)
      const src = spec.Regex.replace(/\\\\|\\s|\\S/g, (m) => (m === '\\s' ? '\\p{White_Space}' : m === '\\S' ? '\\P{White_Space}' : m));
      try {
        this.re = new RegExp(src, 'gu');
      } catch (err) {
        refuse(where, 'pattern', `the regex ${JSON.stringify(spec.Regex)} has no JavaScript equivalent (${err.message})`);
      }
    } else {
      refuse(where, 'pattern', `unknown pattern ${JSON.stringify(spec)}`);
    }
  }

  spans(cps) {
    const out = [];
    if (this.literal) {
      const p = this.literal;
      if (p.length === 0) return out;
      for (let i = 0; i + p.length <= cps.length; ) {
        let ok = true;
        for (let j = 0; j < p.length; j++) {
          if (cps[i + j] !== p[j]) {
            ok = false;
            break;
          }
        }
        if (ok) {
          out.push(i, i + p.length);
          i += p.length;
        } else i++;
      }
      return out;
    }
    const str = cpsToString(cps, 0, cps.length);
    // UTF-16 index -> code point index
    const u2c = new Int32Array(str.length + 1);
    let ci = 0;
    for (let u = 0; u < str.length; u++) {
      u2c[u] = ci;
      const c = str.charCodeAt(u);
      if (c >= 0xd800 && c < 0xdc00 && u + 1 < str.length) {
        u2c[u + 1] = ci;
        u++;
      }
      ci++;
    }
    u2c[str.length] = ci;
    this.re.lastIndex = 0;
    let m;
    while ((m = this.re.exec(str)) !== null) {
      if (m[0].length === 0) {
        // empty matches are skipped as in Rust's find_iter, which then moves one character on
        this.re.lastIndex = m.index + (str.codePointAt(m.index) > 0xffff ? 2 : 1);
        continue;
      }
      out.push(u2c[m.index], u2c[m.index + m[0].length]);
    }
    return out;
  }

  findMatches(cps) {
    if (this.literal && this.literal.length === 0) return [0, cps.length, false];
    return spansToMatches(cps.length, this.spans(cps));
  }
}

// ------------------------------------------------------------------------------------------------------------
// Normalizers
// ------------------------------------------------------------------------------------------------------------
function isChineseChar(c) {
  return (
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x20000 && c <= 0x2a6df) ||
    (c >= 0x2a700 && c <= 0x2b73f) ||
    (c >= 0x2b740 && c <= 0x2b81f) ||
    (c >= 0x2b920 && c <= 0x2ceaf) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0x2f800 && c <= 0x2fa1f)
  );
}

function buildNormalizer(spec) {
  if (spec === null || spec === undefined) return null;
  const t = spec.type;
  switch (t) {
    case 'BertNormalizer': {
      const clean = spec.clean_text ?? true;
      const chinese = spec.handle_chinese_chars ?? true;
      const lower = spec.lowercase ?? true;
      const strip = spec.strip_accents ?? lower; // null: follows lowercase
      return (ns) => {
        if (clean) {
          // remove NUL, U+FFFD and controls (not \t \n \r); then every whitespace becomes a space
          ns.filter((c) => !(c === 0 || c === 0xfffd || (has(c, F.other) && c !== 9 && c !== 10 && c !== 13)));
          ns.map((c) => (c === 9 || c === 10 || c === 13 || has(c, F.ws) ? 32 : c));
        }
        if (chinese) {
          // ' ' replaces the char, the char and a ' ' are inserted: all three share its alignment
          let any = false;
          for (const c of ns.cps) if (isChineseChar(c)) any = true;
          if (any) {
            const c2 = [];
            const x2 = [];
            for (const c of ns.cps) {
              if (isChineseChar(c)) c2.push(32, c, 32), x2.push(0, 1, 1);
              else c2.push(c), x2.push(0);
            }
            ns.transform(c2, x2, 0);
          }
        }
        if (strip) {
          ns.unicodeNormalize('nfd');
          ns.filter((c) => !has(c, F.mn));
        }
        if (lower) ns.lowercase();
      };
    }
    case 'Sequence': {
      const steps = (spec.normalizers || []).map(buildNormalizer).filter(Boolean);
      return (ns) => {
        for (const s of steps) s(ns);
      };
    }
    case 'NFD':
    case 'NFKD':
    case 'NFC':
    case 'NFKC': {
      const form = t.toLowerCase();
      return (ns) => ns.unicodeNormalize(form);
    }
    case 'Lowercase':
      return (ns) => ns.lowercase();
    case 'StripAccents':
      return (ns) => ns.filter((c) => !has(c, F.mark));
    case 'Replace': {
      const pat = new JsPattern(spec.pattern, 'normalizer Replace');
      const content = spec.content ?? '';
      return (ns) => ns.replace(pat.findMatches(ns.cps), content);
    }
    case 'Strip': {
      const l = spec.strip_left ?? true;
      const r = spec.strip_right ?? true;
      return (ns) => ns.strip(l, r);
    }
    case 'Prepend': {
      const p = spec.prepend ?? '';
      return (ns) => {
        if (ns.length) ns.prepend(p);
      };
    }
    case 'Precompiled':
      return refuse('normalizer', 'Precompiled', 'a SentencePiece charsmap (its Unicode tables are not reproduced here)');
    default:
      return refuse('normalizer', t, 'unknown normalizer type');
  }
}

// ------------------------------------------------------------------------------------------------------------
// Pre-tokenizers: each maps a list of splits {ns, tokens} to a new one (PreTokenizedString.split drops empty
// pieces and leaves the added-token splits alone).
// ------------------------------------------------------------------------------------------------------------
function splitEach(splits, fn) {
  const out = [];
  for (const sp of splits) {
    if (sp.tokens) {
      out.push(sp);
      continue;
    }
    for (const ns of fn(sp.ns)) if (ns.length) out.push({ ns, tokens: null });
  }
  return out;
}

const BYTES_CHAR = (() => {
  const bs = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const map = new Int32Array(256);
  const inBs = new Set(bs);
  for (const b of bs) map[b] = b;
  let n = 0;
  for (let b = 0; b < 256; b++) if (!inBs.has(b)) map[b] = 256 + n++;
  return map;
})();
const SPACE_CHAR = BYTES_CHAR[32]; // 'Ġ'

function utf8Bytes(c, out) {
  if (c < 0x80) out.push(c);
  else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
  else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
}

// The GPT-2 regex of the ByteLevel pre-tokenizer, by hand on the measured classes:
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
function byteLevelSpans(cps) {
  const n = cps.length;
  const cls = new Uint8Array(n); // 1 L, 2 N, 3 whitespace, 4 other
  for (let i = 0; i < n; i++) {
    const c = cps[i];
    cls[i] = has(c, F.L) ? 1 : has(c, F.N) ? 2 : has(c, F.S) ? 3 : 4;
  }
  const out = [];
  let i = 0;
  while (i < n) {
    const c = cps[i];
    if (c === 39 && i + 1 < n) {
      const a = cps[i + 1];
      const b = i + 2 < n ? cps[i + 2] : -1;
      if (a === 115 || a === 116 || a === 109 || a === 100) {
        out.push(i, i + 2); // 's 't 'm 'd
        i += 2;
        continue;
      }
      if ((a === 114 && b === 101) || (a === 118 && b === 101) || (a === 108 && b === 108)) {
        out.push(i, i + 3); // 're 've 'll
        i += 3;
        continue;
      }
    }
    let j = i;
    let k = cls[i];
    if (c === 32 && i + 1 < n && cls[i + 1] !== 3) {
      j = i + 1; // ' ?' before a letter, number or other run
      k = cls[j];
    }
    if (k !== 3) {
      let e = j + 1;
      while (e < n && cls[e] === k) e++;
      out.push(i, e);
      i = e;
      continue;
    }
    let e = i + 1;
    while (e < n && cls[e] === 3) e++;
    if (e === n || e - 1 === i) out.push(i, e); // \s+(?!\S) takes all at the end; else \s+ takes one
    else {
      out.push(i, e - 1); // leave the last whitespace to join the next word (' ?' alternatives)
      e -= 1;
    }
    i = e;
  }
  return out;
}

function buildPreTokenizer(spec) {
  if (spec === null || spec === undefined) return null;
  const t = spec.type;
  switch (t) {
    case 'BertPreTokenizer':
      return (splits) => {
        const a = splitEach(splits, (ns) => ns.split(matchChars(ns.cps, (c) => has(c, F.ws)), 'Removed'));
        return splitEach(a, (ns) => ns.split(matchChars(ns.cps, (c) => has(c, F.punct)), 'Isolated'));
      };
    case 'WhitespaceSplit':
      return (splits) => splitEach(splits, (ns) => ns.split(matchChars(ns.cps, (c) => has(c, F.ws)), 'Removed'));
    case 'Whitespace':
      // \w+|[^\w\s]+ (regex crate), everything else removed
      return (splits) =>
        splitEach(splits, (ns) => {
          const { cps } = ns;
          const spans = [];
          let i = 0;
          while (i < cps.length) {
            const w = has(cps[i], F.W);
            if (!w && has(cps[i], F.ws)) {
              i++;
              continue;
            }
            let e = i + 1;
            while (e < cps.length && (w ? has(cps[e], F.W) : !has(cps[e], F.W) && !has(cps[e], F.ws))) e++;
            spans.push(i, e);
            i = e;
          }
          return ns.split(invert(spansToMatches(cps.length, spans)), 'Removed');
        });
    case 'Punctuation': {
      const behavior = spec.behavior ?? 'Isolated';
      return (splits) => splitEach(splits, (ns) => ns.split(matchChars(ns.cps, (c) => has(c, F.punct)), behavior));
    }
    case 'Digits': {
      const behavior = spec.individual_digits ? 'Isolated' : 'Contiguous';
      return (splits) => splitEach(splits, (ns) => ns.split(matchChars(ns.cps, (c) => has(c, F.numeric)), behavior));
    }
    case 'Split': {
      const pat = new JsPattern(spec.pattern, 'pre_tokenizer Split');
      const behavior = spec.behavior;
      const inv = !!spec.invert;
      return (splits) =>
        splitEach(splits, (ns) => {
          const m = pat.findMatches(ns.cps);
          return ns.split(inv ? invert(m) : m, behavior);
        });
    }
    case 'Metaspace': {
      const rep = spec.replacement ?? '\u2581';
      const repCp = rep.codePointAt(0);
      let scheme = spec.prepend_scheme ?? 'always';
      if (spec.add_prefix_space === false) {
        if (scheme !== 'never') throw new TokenizerError('pre_tokenizer Metaspace: add_prefix_space does not match declared prepend_scheme');
        scheme = 'never';
      }
      const doSplit = spec.split ?? true;
      return (splits) =>
        splitEach(splits, (ns) => {
          ns.replace(matchChars(ns.cps, (c) => c === 32), rep);
          // 'first': only the piece that starts the input sequence gets the prefix
          if (ns.cps[0] !== repCp && (scheme === 'always' || (scheme === 'first' && ns.oStart === 0))) ns.prepend(rep);
          return doSplit ? ns.split(matchChars(ns.cps, (c) => c === repCp), 'MergedWithNext') : [ns];
        });
    }
    case 'ByteLevel': {
      const addPrefix = spec.add_prefix_space ?? true;
      const useRegex = spec.use_regex ?? true;
      return (splits) => {
        const a = splitEach(splits, (ns) => {
          if (addPrefix && ns.cps[0] !== 32) ns.prepend(' ');
          return useRegex ? ns.split(spansToMatches(ns.length, byteLevelSpans(ns.cps)), 'Isolated') : [ns];
        });
        // every UTF-8 byte becomes one visible char; all bytes of a char share its alignment
        for (const sp of a) {
          if (sp.tokens) continue;
          const { ns } = sp;
          const c2 = [];
          const x2 = [];
          const bytes = [];
          for (const c of ns.cps) {
            bytes.length = 0;
            utf8Bytes(c, bytes);
            for (let i = 0; i < bytes.length; i++) {
              c2.push(BYTES_CHAR[bytes[i]]);
              x2.push(i > 0 ? 1 : 0);
            }
          }
          ns.transform(c2, x2, 0);
        }
        return a;
      };
    }
    case 'Sequence': {
      const steps = (spec.pretokenizers || []).map(buildPreTokenizer).filter(Boolean);
      return (splits) => {
        for (const s of steps) splits = s(splits);
        return splits;
      };
    }
    default:
      return refuse('pre_tokenizer', t, 'unknown pre-tokenizer type');
  }
}

// ------------------------------------------------------------------------------------------------------------
// Models: tokenize(cps) -> [{id, value, s, e}] with s/e in code points of the piece
// ------------------------------------------------------------------------------------------------------------
class WordPiece {
  constructor(spec) {
    this.vocab = new Map(Object.entries(spec.vocab || {}));
    this.unk = spec.unk_token ?? '[UNK]';
    this.prefix = spec.continuing_subword_prefix ?? '##';
    this.maxChars = spec.max_input_chars_per_word ?? 100;
    this.maxLen = 0; // longest vocabulary entry in code points (no longer candidate can match)
    for (const k of this.vocab.keys()) this.maxLen = Math.max(this.maxLen, toCodePoints(k).length);
    this.vocabR = new Map();
    for (const [k, v] of this.vocab) this.vocabR.set(v, k);
  }

  unkToken(n) {
    const id = this.vocab.get(this.unk);
    if (id === undefined) throw new TokenizerError(`WordPiece: the unk token ${this.unk} is not in the vocabulary`);
    return [{ id, value: this.unk, s: 0, e: n }];
  }

  tokenize(cps) {
    const n = cps.length;
    if (n > this.maxChars) return this.unkToken(n);
    const out = [];
    let start = 0;
    while (start < n) {
      let end = Math.min(n, start + this.maxLen);
      let found = null;
      while (start < end) {
        const sub = (start > 0 ? this.prefix : '') + cpsToString(cps, start, end);
        const id = this.vocab.get(sub);
        if (id !== undefined) {
          found = { id, value: sub, s: start, e: end };
          break;
        }
        end--;
      }
      if (!found) return this.unkToken(n);
      out.push(found);
      start = end;
    }
    return out;
  }
}

class BPE {
  constructor(spec) {
    if (spec.dropout !== null && spec.dropout !== undefined && spec.dropout !== 0) refuse('model', 'BPE', 'dropout is random');
    this.vocab = new Map(Object.entries(spec.vocab || {}));
    this.vocabR = new Map();
    for (const [k, v] of this.vocab) this.vocabR.set(v, k);
    this.unk = spec.unk_token ?? null;
    this.prefix = spec.continuing_subword_prefix ?? null;
    this.suffix = spec.end_of_word_suffix ?? null;
    this.fuseUnk = !!spec.fuse_unk;
    this.byteFallback = !!spec.byte_fallback;
    this.ignoreMerges = !!spec.ignore_merges;
    const prefixLen = this.prefix ? this.prefix.length : 0;
    this.merges = new Map(); // a * 2^22 + b -> [rank, newId]; a later duplicate replaces an earlier one
    const merges = (spec.merges || []).filter((m) => !(typeof m === 'string' && m.startsWith('#version')));
    merges.forEach((m, rank) => {
      let a;
      let b;
      if (typeof m === 'string') {
        const parts = m.split(' ');
        if (parts.length !== 2) throw new TokenizerError(`model BPE: bad merge ${JSON.stringify(m)} at line ${rank + 1}`);
        [a, b] = parts;
      } else [a, b] = m;
      const ia = this.vocab.get(a);
      const ib = this.vocab.get(b);
      const merged = a + (prefixLen ? b.slice(prefixLen) : b);
      const inew = this.vocab.get(merged);
      if (ia === undefined || ib === undefined || inew === undefined) {
        throw new TokenizerError(`model BPE: merge token out of vocabulary in ${JSON.stringify(m)}`);
      }
      this.merges.set(ia * 4194304 + ib, [rank, inew]);
    });
    this.cache = new Map();
  }

  tokenize(cps) {
    if (cps.length === 0) return [];
    const word = cpsToString(cps, 0, cps.length);
    if (this.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) return [{ id, value: word, s: 0, e: cps.length }];
    }
    let syms = this.cache.get(word);
    if (!syms) {
      syms = this.mergeWord(cps);
      if (this.cache.size > 10000) this.cache.clear();
      this.cache.set(word, syms);
    }
    return syms.map(([id, s, e]) => ({ id, value: this.vocabR.get(id), s, e }));
  }

  mergeWord(cps) {
    // symbols: id, start/end in code points (byte-fallback pieces of one char all cover that char)
    const ids = [];
    const st = [];
    const en = [];
    let unk = null; // [id, s, e]
    const n = cps.length;
    const flushUnk = () => {
      if (unk) {
        ids.push(unk[0]);
        st.push(unk[1]);
        en.push(unk[2]);
        unk = null;
      }
    };
    for (let i = 0; i < n; i++) {
      let s = String.fromCodePoint(cps[i]);
      if (i > 0 && this.prefix !== null) s = this.prefix + s;
      if (i === n - 1 && this.suffix !== null) s += this.suffix;
      const id = this.vocab.get(s);
      if (id !== undefined) {
        flushUnk();
        ids.push(id);
        st.push(i);
        en.push(i + 1);
        continue;
      }
      if (this.byteFallback) {
        const bytes = [];
        for (const ch of toCodePoints(s)) utf8Bytes(ch, bytes);
        const bt = bytes.map((b) => this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
        if (bt.every((x) => x !== undefined)) {
          for (const x of bt) ids.push(x), st.push(i), en.push(i + 1);
          continue;
        }
      }
      if (this.unk !== null) {
        const unkId = this.vocab.get(this.unk);
        if (unkId === undefined) throw new TokenizerError(`model BPE: unk token ${this.unk} out of vocabulary`);
        if (unk && this.fuseUnk) unk[2] = i + 1;
        else {
          flushUnk();
          unk = [unkId, i, i + 1];
        }
      }
    }
    flushUnk();
    // word.rs merge_all: lowest rank first, then leftmost position
    const m = ids.length;
    const prev = new Int32Array(m);
    const next = new Int32Array(m);
    const alive = new Uint8Array(m).fill(1);
    for (let i = 0; i < m; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < m ? i + 1 : -1;
    }
    const heap = new MergeHeap();
    for (let i = 0; i + 1 < m; i++) {
      const mg = this.merges.get(ids[i] * 4194304 + ids[i + 1]);
      if (mg) heap.push(mg[0], i, mg[1]);
    }
    while (heap.size) {
      const [, pos, newId] = heap.pop();
      if (!alive[pos] || next[pos] === -1) continue;
      const r = next[pos];
      const mg = this.merges.get(ids[pos] * 4194304 + ids[r]);
      if (!mg || mg[1] !== newId) continue;
      ids[pos] = newId;
      en[pos] = en[r];
      alive[r] = 0;
      next[pos] = next[r];
      if (next[r] !== -1) prev[next[r]] = pos;
      if (prev[pos] >= 0) {
        const p = prev[pos];
        const mp = this.merges.get(ids[p] * 4194304 + ids[pos]);
        if (mp) heap.push(mp[0], p, mp[1]);
      }
      if (next[pos] !== -1) {
        const mn = this.merges.get(ids[pos] * 4194304 + ids[next[pos]]);
        if (mn) heap.push(mn[0], pos, mn[1]);
      }
    }
    const out = [];
    for (let i = 0; i < m; i++) if (alive[i]) out.push([ids[i], st[i], en[i]]);
    return out;
  }
}

class MergeHeap {
  constructor() {
    this.a = [];
  }

  get size() {
    return this.a.length;
  }

  static less(x, y) {
    return x[0] < y[0] || (x[0] === y[0] && x[1] < y[1]);
  }

  push(rank, pos, id) {
    const a = this.a;
    a.push([rank, pos, id]);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!MergeHeap.less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  pop() {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let s = i;
        if (l < a.length && MergeHeap.less(a[l], a[s])) s = l;
        if (r < a.length && MergeHeap.less(a[r], a[s])) s = r;
        if (s === i) break;
        [a[i], a[s]] = [a[s], a[i]];
        i = s;
      }
    }
    return top;
  }
}

class Unigram {
  constructor(spec) {
    if (spec.byte_fallback) refuse('model', 'Unigram', 'byte_fallback=true');
    this.pieces = spec.vocab || [];
    this.unkId = spec.unk_id ?? null;
    this.vocab = new Map();
    this.vocabR = new Map();
    this.prefixes = new Map(); // every prefix of every piece -> id of the piece equal to it, or -1
    let min = Infinity;
    this.pieces.forEach(([p, score], id) => {
      if (!this.vocab.has(p)) this.vocab.set(p, id);
      this.vocabR.set(id, p);
      if (score < min) min = score;
      const cps = toCodePoints(p);
      let pre = '';
      for (let i = 0; i < cps.length; i++) {
        pre += String.fromCodePoint(cps[i]);
        if (!this.prefixes.has(pre)) this.prefixes.set(pre, -1);
      }
      if (p.length) this.prefixes.set(p, this.vocab.get(p));
    });
    this.unkScore = min - 10.0; // K_UNK_PENALTY
    this.cache = new Map();
  }

  tokenize(cps) {
    const n = cps.length;
    if (n === 0) return [];
    // model.rs encode_optimized: Viterbi over code points, ties kept by the first candidate found
    // (shorter pieces first, earlier starts first)
    const score = new Float64Array(n + 1);
    const from = new Int32Array(n + 1).fill(-1);
    const idAt = new Int32Array(n + 1);
    const chars = cps.map((c) => String.fromCodePoint(c));
    for (let s = 0; s < n; s++) {
      const base = score[s];
      let single = false;
      let pre = '';
      for (let e = s; e < n; e++) {
        pre += chars[e];
        const id = this.prefixes.get(pre);
        if (id === undefined) break;
        if (id < 0) continue;
        const cand = this.pieces[id][1] + base;
        const k = e + 1;
        if (from[k] < 0 || cand > score[k]) {
          score[k] = cand;
          from[k] = s;
          idAt[k] = id;
        }
        if (k === s + 1) single = true;
      }
      if (!single) {
        if (this.unkId === null) throw new TokenizerError('model Unigram: an unknown character and no unk_id');
        const cand = this.unkScore + base;
        const k = s + 1;
        if (from[k] < 0 || cand > score[k]) {
          score[k] = cand;
          from[k] = s;
          idAt[k] = this.unkId;
        }
      }
    }
    // back from the end; consecutive unknowns fuse into one token
    const segs = []; // [s, e, isUnk]
    let e = n;
    while (e > 0) {
      const s = from[e];
      const isUnk = idAt[e] === this.unkId;
      if (isUnk && segs.length && segs[segs.length - 1][2]) segs[segs.length - 1][0] = s;
      else segs.push([s, e, isUnk]);
      e = s;
    }
    segs.reverse();
    return segs.map(([s, e2]) => {
      const value = cpsToString(cps, s, e2);
      const id = this.vocab.get(value);
      return { id: id === undefined ? this.unkId : id, value, s, e: e2 };
    });
  }
}

function buildModel(spec) {
  const t = spec && spec.type;
  if (t === 'WordPiece' || (!t && spec && spec.max_input_chars_per_word !== undefined)) return new WordPiece(spec);
  if (t === 'BPE' || (!t && spec && spec.merges !== undefined)) return new BPE(spec);
  if (t === 'Unigram' || (!t && spec && Array.isArray(spec.vocab))) return new Unigram(spec);
  return refuse('model', t, 'unknown model type');
}

// ------------------------------------------------------------------------------------------------------------
// Encodings and post-processors
// ------------------------------------------------------------------------------------------------------------
class RawEncoding {
  constructor() {
    this.ids = [];
    this.typeIds = [];
    this.tokens = [];
    this.words = [];
    this.offsets = [];
    this.special = [];
    this.ranges = new Map(); // sequence id -> [start, end)
  }

  get length() {
    return this.ids.length;
  }

  setSequenceId(i) {
    this.ranges.set(i, [0, this.ids.length]);
  }

  static of(ids, typeIds, tokens, words, offsets, special, ranges) {
    const e = new RawEncoding();
    Object.assign(e, { ids, typeIds, tokens, words, offsets, special, ranges });
    return e;
  }

  mergeWith(o) {
    const n = this.ids.length;
    for (const [k, [s, e]] of o.ranges) this.ranges.set(k, [n + s, n + e]);
    this.ids.push(...o.ids);
    this.typeIds.push(...o.typeIds);
    this.tokens.push(...o.tokens);
    this.words.push(...o.words);
    this.offsets.push(...o.offsets);
    this.special.push(...o.special);
  }

  static merge(list) {
    const out = new RawEncoding();
    for (const e of list) out.mergeWith(e);
    return out;
  }
}

// byte_level.rs process_offsets: trim leading/trailing spaces ('Ġ' or whitespace) of each token from its offsets
function trimOffsets(enc, addPrefixSpace) {
  enc.tokens.forEach((tok, i) => {
    const cps = toCodePoints(tok);
    const isSpace = (c) => c === SPACE_CHAR || has(c, F.ws);
    let lead = 0;
    while (lead < cps.length && isSpace(cps[lead])) lead++;
    let trail = 0;
    while (trail < cps.length && isSpace(cps[cps.length - 1 - trail])) trail++;
    if (lead === 0 && trail === 0) return;
    const o = enc.offsets[i];
    if (lead > 0) {
      const isFirst = i === 0 || o[0] === 0;
      if (isFirst && addPrefixSpace && lead === 1) lead = 0;
      o[0] = Math.min(o[0] + lead, o[1]);
    }
    if (trail > 0 && o[1] >= trail) o[1] = Math.max(o[1] - trail, o[0]);
  });
}

function buildProcessor(spec) {
  if (spec === null || spec === undefined) return null;
  const t = spec.type;
  switch (t) {
    case 'BertProcessing':
    case 'RobertaProcessing': {
      const [sepTok, sepId] = spec.sep;
      const [clsTok, clsId] = spec.cls;
      const roberta = t === 'RobertaProcessing';
      const trim = roberta && (spec.trim_offsets ?? true);
      const addPrefix = spec.add_prefix_space ?? true;
      return (encs) => {
        if (trim) for (const e of encs) trimOffsets(e, addPrefix);
        if (roberta) for (const e of encs) e.typeIds = e.ids.map(() => 0);
        return encs.map((e, i) => {
          const n = e.length;
          const z = e.ids.map(() => 0);
          if (i === 0) {
            return RawEncoding.of(
              [clsId, ...e.ids, sepId], [0, ...e.typeIds, 0], [clsTok, ...e.tokens, sepTok], [null, ...e.words, null],
              [[0, 0], ...e.offsets, [0, 0]], [1, ...z, 1], new Map([[0, [1, n + 1]]]),
            );
          }
          if (roberta) {
            return RawEncoding.of(
              [sepId, ...e.ids, sepId], [0, ...z, 0], [sepTok, ...e.tokens, sepTok], [null, ...e.words, null],
              [[0, 0], ...e.offsets, [0, 0]], [1, ...z, 1], new Map([[1, [1, n + 1]]]),
            );
          }
          return RawEncoding.of(
            [...e.ids, sepId], [...e.typeIds, 1], [...e.tokens, sepTok], [...e.words, null], [...e.offsets, [0, 0]],
            [...z, 1], new Map([[1, [0, n]]]),
          );
        });
      };
    }
    case 'ByteLevel': {
      const trim = spec.trim_offsets ?? true;
      const addPrefix = spec.add_prefix_space ?? true;
      return (encs) => {
        if (trim) for (const e of encs) trimOffsets(e, addPrefix);
        encs.forEach((e, i) => e.setSequenceId(i));
        return encs;
      };
    }
    case 'TemplateProcessing': {
      const specials = spec.special_tokens || {};
      const parse = (tpl) =>
        (tpl || []).map((p) => {
          if (p.Sequence) return { seq: p.Sequence.id === 'A' ? 0 : 1, typeId: p.Sequence.type_id };
          const tok = specials[p.SpecialToken.id];
          if (!tok) throw new TokenizerError(`post_processor TemplateProcessing: missing special token ${p.SpecialToken.id}`);
          return { special: tok, typeId: p.SpecialToken.type_id };
        });
      const single = parse(spec.single);
      const pair = parse(spec.pair);
      return (encs) => {
        const tpl = encs.length === 2 ? pair : single;
        const out = [];
        for (const p of tpl) {
          if (p.special) {
            const n = p.special.ids.length;
            out.push(
              RawEncoding.of(
                p.special.ids.slice(), Array(n).fill(p.typeId), p.special.tokens.slice(), Array(n).fill(null),
                Array.from({ length: n }, () => [0, 0]), Array(n).fill(1), new Map(),
              ),
            );
          } else {
            const e = encs[p.seq];
            e.typeIds = e.ids.map(() => p.typeId);
            e.setSequenceId(p.seq);
            out.push(RawEncoding.of(e.ids.slice(), e.typeIds.slice(), e.tokens.slice(), e.words.slice(), e.offsets.map((o) => o.slice()), e.special.slice(), new Map(e.ranges)));
          }
        }
        return out;
      };
    }
    case 'Sequence': {
      const steps = (spec.processors || []).map(buildProcessor).filter(Boolean);
      return (encs) => {
        for (const s of steps) encs = s(encs);
        return encs;
      };
    }
    default:
      return refuse('post_processor', t, 'unknown post-processor type');
  }
}

// ------------------------------------------------------------------------------------------------------------
// Added tokens: split out of the raw text (normalized: false) and then of each normalized piece (normalized:
// true), leftmost-longest as tokenizers' Aho-Corasick automaton, honouring single_word / lstrip / rstrip.
// ------------------------------------------------------------------------------------------------------------
class AddedMatcher {
  constructor(tokens) {
    this.tokens = tokens; // [{cps, id, single_word, lstrip, rstrip}]
    this.byFirst = new Map();
    tokens.forEach((t, order) => {
      if (!t.cps.length) return;
      const k = t.cps[0];
      if (!this.byFirst.has(k)) this.byFirst.set(k, []);
      this.byFirst.get(k).push({ ...t, order });
    });
    for (const list of this.byFirst.values()) list.sort((a, b) => b.cps.length - a.cps.length || a.order - b.order);
  }

  // [[s, e, token|null], ...] covering cps
  find(cps) {
    const n = cps.length;
    if (n === 0) return [[0, 0, null]];
    const out = [];
    let startOffset = 0;
    let i = 0;
    const isWord = (c) => has(c, F.W);
    while (i < n) {
      const list = this.byFirst.get(cps[i]);
      let hit = null;
      if (list) {
        for (const t of list) {
          if (i + t.cps.length > n) continue;
          let ok = true;
          for (let j = 1; j < t.cps.length; j++) {
            if (cps[i + j] !== t.cps[j]) {
              ok = false;
              break;
            }
          }
          if (ok) {
            hit = t;
            break;
          }
        }
      }
      if (!hit) {
        i++;
        continue;
      }
      let start = i;
      let stop = i + hit.cps.length;
      i = stop; // the automaton goes on after the match, whatever happens to it below
      if (hit.single_word) {
        const startSpace = start === 0 || !isWord(cps[start - 1]);
        const stopSpace = stop === n || !isWord(cps[stop]);
        if (!startSpace || !stopSpace) continue;
      }
      if (hit.lstrip) {
        let s = start;
        while (s > 0 && has(cps[s - 1], F.ws)) s--;
        start = Math.max(s, startOffset);
      }
      if (hit.rstrip) while (stop < n && has(cps[stop], F.ws)) stop++;
      if (startOffset < start) out.push([startOffset, start, null]);
      out.push([start, stop, hit]);
      startOffset = stop;
    }
    if (startOffset !== n) out.push([startOffset, n, null]);
    return out;
  }
}

// ------------------------------------------------------------------------------------------------------------
// Encoding (the npm `tokenizers` Encoding API, plain arrays)
// ------------------------------------------------------------------------------------------------------------
export class Encoding {
  constructor(raw) {
    this._raw = raw;
  }

  getIds() {
    return this._raw.ids.slice();
  }

  getTypeIds() {
    return this._raw.typeIds.slice();
  }

  getTokens() {
    return this._raw.tokens.slice();
  }

  getSpecialTokensMask() {
    return this._raw.special.slice();
  }

  getAttentionMask() {
    return this._raw.ids.map(() => 1);
  }

  getWordIds() {
    return this._raw.words.slice();
  }

  getOffsets() {
    return this._raw.offsets.map((o) => [o[0], o[1]]);
  }

  getSequenceIds() {
    const r = this._raw;
    const out = Array(r.length).fill(null);
    const nSeq = r.ranges.size === 0 ? 1 : r.ranges.size;
    for (let k = 0; k < nSeq; k++) {
      const [s, e] = r.ranges.get(k) || [0, r.length];
      for (let i = s; i < e; i++) out[i] = k;
    }
    return out;
  }

  get length() {
    return this._raw.length;
  }
}

export class Tokenizer {
  constructor(spec) {
    initUnicode();
    if (spec.truncation && spec.truncation !== null) {
      // kept as data only: qaport windows its encodings itself (see qa.mjs)
    }
    this.model = buildModel(spec.model);
    this.normalizer = buildNormalizer(spec.normalizer);
    this.preTokenizer = buildPreTokenizer(spec.pre_tokenizer);
    this.processor = buildProcessor(spec.post_processor);
    this.added = (spec.added_tokens || []).map((t) => ({
      id: t.id,
      content: t.content,
      cps: toCodePoints(t.content),
      single_word: !!t.single_word,
      lstrip: !!t.lstrip,
      rstrip: !!t.rstrip,
      normalized: t.normalized ?? !t.special,
      special: !!t.special,
    }));
    // the automaton lists special tokens first, then the others (added_vocabulary.rs refresh_added_tokens)
    const ordered = [...this.added.filter((t) => t.special), ...this.added.filter((t) => !t.special)];
    this.rawMatcher = new AddedMatcher(ordered.filter((t) => !t.normalized));
    this.normMatcher = new AddedMatcher(
      ordered
        .filter((t) => t.normalized)
        .map((t) => {
          // normalized tokens are looked for in normalized text, in their normalized form
          const ns = NormalizedString.fromCodePoints(t.cps);
          if (this.normalizer) this.normalizer(ns);
          return { ...t, cps: ns.cps };
        }),
    );
    this.addedByContent = new Map(this.added.map((t) => [t.content, t.id]));
    this.addedById = new Map(this.added.map((t) => [t.id, t.content]));
  }

  static fromJSON(json) {
    let spec = json;
    if (typeof json === 'string') {
      try {
        spec = JSON.parse(json);
      } catch (err) {
        throw new TokenizerError(`tokenizer.json is not valid JSON: ${err.message}`);
      }
    }
    if (!spec || typeof spec !== 'object' || !spec.model) throw new TokenizerError('tokenizer.json has no model');
    return new Tokenizer(spec);
  }

  static fromString(text) {
    return Tokenizer.fromJSON(text);
  }

  disableTruncation() {}

  disablePadding() {}

  tokenToId(token) {
    const a = this.addedByContent.get(token);
    if (a !== undefined) return a;
    const id = this.model.vocab.get(token);
    return id === undefined ? null : id;
  }

  idToToken(id) {
    const a = this.addedById.get(id);
    if (a !== undefined) return a;
    const t = this.model.vocabR.get(id);
    return t === undefined ? null : t;
  }

  getVocabSize(withAddedTokens = true) {
    if (!withAddedTokens) return this.model.vocab.size;
    const all = new Set(this.model.vocab.keys());
    for (const t of this.added) all.add(t.content);
    return all.size;
  }

  // One sequence through added-token extraction, normalizer, pre-tokenizer and model (tokenizer/mod.rs
  // encode_single_sequence), then into an encoding with offsets in code points of `text`.
  encodeSequence(text, typeId) {
    if (typeof text !== 'string') throw new TokenizerError('encode: text must be a string');
    const cps = toCodePoints(text);
    const whole = NormalizedString.fromCodePoints(cps);
    const tokenOf = (ns, t) => [{ id: t.id, value: cpsToString(ns.cps, 0, ns.length), s: 0, e: ns.length }];
    let splits = [];
    for (const [s, e, t] of this.rawMatcher.find(whole.cps)) {
      const ns = whole.slice(s, e);
      if (ns.length) splits.push({ ns, tokens: t ? tokenOf(ns, t) : null });
    }
    const next = [];
    for (const sp of splits) {
      if (sp.tokens) {
        next.push(sp);
        continue;
      }
      if (this.normalizer) this.normalizer(sp.ns);
      for (const [s, e, t] of this.normMatcher.find(sp.ns.cps)) {
        const ns = sp.ns.slice(s, e);
        if (ns.length) next.push({ ns, tokens: t ? tokenOf(ns, t) : null });
      }
    }
    splits = next;
    if (this.preTokenizer) splits = this.preTokenizer(splits);
    const enc = new RawEncoding();
    splits.forEach((sp, word) => {
      const toks = sp.tokens || this.model.tokenize(sp.ns.cps);
      const { ns } = sp;
      for (const t of toks) {
        enc.ids.push(t.id);
        enc.tokens.push(t.value);
        enc.offsets.push(t.s === t.e ? [ns.oStart + t.s, ns.oStart + t.e] : [ns.as[t.s], ns.ae[t.e - 1]]);
        enc.words.push(word);
        enc.typeIds.push(typeId);
        enc.special.push(0);
      }
    });
    return enc;
  }

  encode(sequence, pair = null) {
    const encs = [this.encodeSequence(sequence, 0)];
    if (pair !== null && pair !== undefined) encs.push(this.encodeSequence(pair, 1));
    let raw;
    if (this.processor) {
      // PostProcessor::process: sequence ids and type ids by position, then the processor, then one encoding
      encs.forEach((e, i) => {
        e.setSequenceId(i);
        e.typeIds = e.ids.map(() => i);
      });
      raw = RawEncoding.merge(this.processor(encs));
    } else if (encs.length === 1) {
      raw = encs[0];
    } else {
      encs.forEach((e, i) => e.setSequenceId(i));
      raw = RawEncoding.merge(encs);
    }
    return new Encoding(raw);
  }
}
