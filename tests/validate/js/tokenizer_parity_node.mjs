// Node driver of tokenizer_parity.mjs: reads {tokenizer: text, pairs: [...]} (or {jobs: [{tokenizer, pairs}, ...]})
// as JSON on stdin, writes the results (one list per job for {jobs}) as JSON on stdout.
import { encodeAll, encodeJobs } from './tokenizer_parity.mjs';

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const job = JSON.parse(input);
const t0 = performance.now();
const result = job.jobs ? encodeJobs(job) : { results: encodeAll(job.tokenizer, job.pairs), ms: performance.now() - t0 };
process.stdout.write(JSON.stringify(result));
