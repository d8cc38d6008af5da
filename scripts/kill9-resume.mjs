#!/usr/bin/env node
// Kills `node train.js` with SIGKILL at seeded random moments (during start-up, before the first checkpoint, while
// checkpoints are written), restarts it each time (--resume once config.json exists, else the original command),
// lets the last restart finish, and compares its final tensors bit for bit with an uninterrupted run. Also checks
// that no temporary file is left. The first kills come early (before the first checkpoint), every third one the
// moment a temporary file appears (during a write). train.js runs the training in a child of its launcher
// (src/cli/launch.ts): those kills hit the training process itself, as a scheduler or the OOM killer would; the
// others hit the launcher alone, and the training process must then stop by itself. Tiny sizes (32², ngf 4):
// about five minutes on two cores.
//   node scripts/kill9-resume.mjs [KILLS=20] [SEED=1]     (needs a build: npm run build)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const { readSafetensors } = await import(join(ROOT, 'dist', 'src', 'io', 'safetensors.js'));
const kills = Number(process.argv[2] ?? 20);
/** Enough that 20 restarts, each killed within 5 s, do not reach the end. */
const ITERS = 300;
let seed = Number(process.argv[3] ?? 1);
/** xorshift32: the kill moments depend only on the seed. */
const random = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};

const tmp = mkdtempSync(join(tmpdir(), 'comi-kill9-'));
const data = join(tmp, 'data');
// Kernel variants chosen by timing (autotuning) may differ between processes, and with them the last bits.
const env = { ...process.env, COMI_AUTOTUNE: '0' };
const node = (args) => spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8' });
const synth = node([join(ROOT, 'bin', 'comi.js'), 'synth', '--out', data, '--count', '4', '--size', '48', '--seed', '2']);
if (synth.status !== 0) throw new Error(synth.stderr);
const trainArgs = (out) => [
  'train.js', '--data', data, '--layout', 'paired', '--source', 'blurred', '--target', 'clear', '--size', '32', '--ngf', '4', '--ndf', '4',
  '--blocks', '1', '--content-weight', '0', '--pool-size', '2', '--iters', String(ITERS), '--checkpoint-every', '10', '--sample-every', '5', '--log-every', '1', '--out', out,
];

const reference = join(tmp, 'reference');
const ref = node(trainArgs(reference));
if (ref.status !== 0) throw new Error(`reference run failed: ${ref.stderr}`);

const run = join(tmp, 'killed');
const started = { fresh: 0, resumed: 0 };
const checkpointsAtKill = [];
let tempsAtKill = 0;
const modes = { early: 0, write: 0, launcher: 0 };
let slowestWorkerStopMs = 0;
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const logLines = () => (existsSync(join(run, 'log.jsonl')) ? readFileSync(join(run, 'log.jsonl'), 'utf8').split('\n').length : 0);
const tempFiles = (dir) => (existsSync(dir) ? readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.tmp')) : []);
for (let k = 0; k <= kills; k++) {
  const resume = existsSync(join(run, 'config.json'));
  started[resume ? 'resumed' : 'fresh']++;
  const args = resume ? ['train.js', '--resume', run] : trainArgs(run);
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  if (k < kills) {
    const mode = k < 4 ? 'early' : k % 3 === 0 ? 'write' : 'launcher';
    modes[mode]++;
    const workerPid = () => {
      const children = `/proc/${child.pid}/task/${child.pid}/children`;
      return existsSync(children) ? Number(readFileSync(children, 'utf8').trim().split(' ')[0]) || 0 : 0;
    };
    let worker = 0;
    let done = false;
    exited.then(() => (done = true));
    if (mode === 'write') {
      const deadline = Date.now() + 30_000;
      while (!done && tempFiles(run).length === 0 && Date.now() < deadline) await sleep(1);
    } else if (mode === 'early') {
      await sleep(300 + random() * 3000); // start-up (Dawn, data loading) takes 1–3 s here
    } else {
      // Once this restart has trained at least one iteration (however loaded the machine), a random moment later.
      const logged = logLines();
      const deadline = Date.now() + 60_000;
      while (!done && logLines() <= logged && Date.now() < deadline) await sleep(20);
      await sleep(random() * 4000);
    }
    if (!done) {
      worker = workerPid();
      if (mode !== 'launcher' && worker) process.kill(worker, 'SIGKILL');
      child.kill('SIGKILL');
    }
    const r = await exited;
    const t0 = Date.now();
    while (worker && alive(worker)) await sleep(5);
    if (mode === 'launcher') slowestWorkerStopMs = Math.max(slowestWorkerStopMs, Date.now() - t0);
    if (tempFiles(run).length) tempsAtKill++;
    if (r.signal !== 'SIGKILL') {
      throw new Error(`run ${k} ended before its kill (${r.code}): ${stderr.split('\n').filter((l) => !l.startsWith('Warning:')).join(' ')}`);
    }
    const ckpt = join(run, 'checkpoints', 'latest.safetensors');
    checkpointsAtKill.push(existsSync(ckpt) ? Number(readSafetensors(ckpt).metadata.iteration) : 0);
  } else {
    const r = await exited;
    if (r.code !== 0) throw new Error(`final resume failed (${r.code}): ${stderr}`);
  }
}

const bytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
let differ = 0;
let compared = 0;
for (const file of ['checkpoints/latest.safetensors', 'generator.safetensors']) {
  const a = readSafetensors(join(reference, file)).tensors;
  const b = readSafetensors(join(run, file)).tensors;
  for (const [name, t] of Object.entries(a)) {
    compared++;
    if (!b[name] || !bytes(b[name].data).equals(bytes(t.data))) differ++;
  }
}
const temps = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) walk(join(dir, e.name));
    else if (e.name.endsWith('.tmp')) temps.push(join(dir, e.name));
  }
};
walk(run);
const logIterations = readFileSync(join(run, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).iteration);
const logOk = logIterations.length === ITERS && logIterations.every((it, i) => it === i + 1);
console.log(`kill -9: ${kills} kills (${checkpointsAtKill.filter((c) => c === 0).length} before the first checkpoint; checkpoint iteration at each kill: ${checkpointsAtKill.join(' ')})`);
console.log(`kills: ${modes.early} early and ${modes.write} at a write (of the training process), ${modes.launcher} of the launcher alone; ${tempsAtKill} left a half-written temporary file`);
console.log(`after its launcher was killed, the training process stopped within ${slowestWorkerStopMs} ms`);
console.log(`restarts: ${started.fresh} with the original command (no config.json yet), ${started.resumed} with --resume; the last one finished`);
console.log(`final tensors: ${compared - differ} of ${compared} bit-identical to the uninterrupted run; log.jsonl ${logOk ? `holds iterations 1..${ITERS} once each` : 'is WRONG'}; temporary files left: ${temps.length}`);
rmSync(tmp, { recursive: true, force: true });
process.exit(differ === 0 && temps.length === 0 && logOk ? 0 : 1);
