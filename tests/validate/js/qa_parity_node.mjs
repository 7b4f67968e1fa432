// Node.js driver of qa_parity.mjs: node qa_parity_node.mjs JOB.json OUT.json (the job as qa_parity.runJob takes it).
import { readFileSync, writeFileSync } from 'node:fs';

import { runJob } from './qa_parity.mjs';

const [jobPath, outPath] = process.argv.slice(-2);
const result = await runJob(JSON.parse(readFileSync(jobPath, 'utf8')));
const cpu = process.cpuUsage();
writeFileSync(outPath, JSON.stringify({ ...result, cpu: (cpu.user + cpu.system) / 1e6 }));
