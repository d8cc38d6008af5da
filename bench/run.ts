// `npm run bench`: the GPU suites one after another, each in its own process (its own device and buffer pool),
// results in bench/results/<adapter>.json and .md. The TensorFlow.js comparison and the web app against Node in
// headless Chromium are optional (--suites …,tfjs,browser).
//   npm run bench -- [--suites gemm,kernels,step,correct,tfjs] [any suite flag, passed on to every suite]
// On CPU adapters the full set takes tens of minutes (the 256² step and the paper-size correction dominate).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { flag } from './harness.js';

const SUITES = ['gemm', 'kernels', 'step', 'record', 'profile', 'fold', 'winograd', 'correct', 'tfjs', 'metrics', 'synth', 'browser', 'deconvolve'];
/** Suites whose file is named otherwise. */
const FILES: Record<string, string> = { tfjs: 'tfjs_step', profile: 'profile_step' };
const wanted = flag('suites', 'gemm,kernels,step,correct').split(',');
const unknown = wanted.filter((s) => !SUITES.includes(s));
if (unknown.length) {
  console.error(`unknown suite ${unknown.join(', ')}; choose from ${SUITES.join(', ')}`);
  process.exit(2);
}
const passOn = process.argv.slice(2).filter((a, i, all) => a !== '--suites' && all[i - 1] !== '--suites');
for (const suite of wanted) {
  console.log(`== bench ${suite}`);
  const res = spawnSync(process.execPath, [join(import.meta.dirname, `${FILES[suite] ?? suite}.js`), ...passOn], { stdio: 'inherit' });
  if (res.status !== 0) {
    console.error(`bench ${suite} failed (exit ${res.status ?? res.signal})`);
    process.exit(1);
  }
}
