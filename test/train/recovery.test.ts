// Runs that always recover (issue 18, findings 4–6 and SIGTERM): a run folder killed before its first checkpoint
// restarts on --resume, the session settings persist across resume, stale temporary files of dead writers are
// removed, and SIGTERM saves a checkpoint as Ctrl-C does.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { useGpu } from '../helpers/gpu.js';
import { readSafetensors } from '../../src/io/safetensors_file.js';
import { generateSynth, SYNTH_DEFAULTS } from '../../src/synth/generate.js';
import { train, type TrainSchedule } from '../../src/train/trainer.js';
import { readRunConfig, runPaths, RUN_FORMAT, RUN_VERSION, type RunConfig } from '../../src/train/run_folder.js';
import { readCheckpoint } from '../../src/train/checkpoint.js';
import { readLog } from '../../src/train/log.js';
import { parseTrainFlags } from '../../src/cli/train.js';
import { removeStaleTempFiles } from '../../src/io/tempfiles.js';

useGpu();

const ROOT = join(import.meta.dirname, '..', '..');
const LOADER = pathToFileURL(join(ROOT, 'test', 'graph', 'ts-loader.mjs')).href;

let tmp: string;
let synth: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'comi-recover-'));
  synth = join(tmp, 'synth');
  await generateSynth(synth, { ...SYNTH_DEFAULTS.fluorescence, count: 4, size: 40, seed: 3 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tinyConfig(iterations: number): RunConfig {
  return {
    format: RUN_FORMAT, version: RUN_VERSION, created: new Date(0).toISOString(), argv: [],
    model: { channels: 1, ngf: 4, ndf: 4, blocks: 1, upsampling: 'transpose', globalResidual: false },
    data: { root: synth, layout: 'paired', source: 'blurred', target: 'clear', inFocus: null, planes: null, size: 32, normalization: 'auto' },
    losses: { gan: 'lsgan', adversarialWeight: 1, contentWeight: 0, cycleWeight: 0.001 },
    vgg: null,
    optim: { lr: 1e-4, beta1: 0.5, beta2: 0.99, iterations, decayStart: iterations / 2, batch: 1, poolSize: 2 },
    seed: 5,
  };
}
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const schedule: TrainSchedule = { checkpointEvery: 3, sampleEvery: 0, logEvery: 2, nanCheckEvery: 4, onNan: 'stop' };

/** A process id that no process has now. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('recovery', () => {
  it('a run killed before its first checkpoint restarts on --resume and ends bit-identical to an uninterrupted run', async () => {
    const straight = join(tmp, 'straight');
    await train({ runDir: straight, config: tinyConfig(6), schedule });
    // What kill -9 before the first checkpoint leaves: config, split and some log lines, no checkpoint, no generator.
    const killed = join(tmp, 'killed');
    await train({ runDir: killed, config: tinyConfig(6), schedule });
    rmSync(runPaths(killed).checkpoint);
    rmSync(runPaths(killed).generator);
    writeFileSync(runPaths(killed).log, '{"iteration":2,"losses":{},"lr":0,"seconds":0}\n{"itera');
    const notes: string[] = [];
    expect(await train({ runDir: killed, schedule, onNote: (m) => notes.push(m) })).toMatchObject({ iteration: 6, interrupted: false });
    expect(notes).toEqual([`${killed} has no checkpoint yet (stopped before its first one): training starts again from iteration 0 with its config.json`]);
    const a = readSafetensors(runPaths(straight).checkpoint).tensors;
    const b = readSafetensors(runPaths(killed).checkpoint).tensors;
    for (const [k, t] of Object.entries(a)) expect(bytes(b[k].data).equals(bytes(t.data)), k).toBe(true);
    expect(readLog(runPaths(killed).log).map((e) => e.iteration)).toEqual([2, 3, 4, 6]); // logged every 2, and each check
  });

  it('--checkpoint-every, --log-every, --sample-every and the NaN settings persist across --resume unless given again', async () => {
    const dir = join(tmp, 'settings');
    const stop = new AbortController();
    await train({ runDir: dir, config: tinyConfig(8), schedule, signal: stop.signal, onIteration: (e) => e.iteration === 4 && stop.abort() });
    expect(readRunConfig(dir).schedule).toEqual(schedule);
    expect(parseTrainFlags(['--resume', dir])!.schedule).toEqual(schedule);
    const changed = parseTrainFlags(['--resume', dir, '--log-every', '1', '--on-nan', 'rollback', '--keep', 'last'])!.schedule;
    expect(changed).toEqual({ ...schedule, logEvery: 1, onNan: 'rollback', keep: 'last' });
    await train({ runDir: dir, schedule: changed });
    expect(readRunConfig(dir).schedule).toEqual(changed);
    expect(readLog(runPaths(dir).log).map((e) => e.iteration)).toEqual([2, 3, 4, 5, 6, 7, 8]); // every 2 and the check at 3, then every 1
  });

  it('stale temporary files of dead writers are removed on resume; those of live processes and other files stay', async () => {
    const dir = join(tmp, 'stale');
    const stop = new AbortController();
    await train({ runDir: dir, config: tinyConfig(4), schedule, signal: stop.signal, onIteration: (e) => e.iteration === 2 && stop.abort() });
    const dead = deadPid();
    const stale = [join(dir, 'checkpoints', `.latest.safetensors.${dead}.tmp`), join(dir, `.config.json.${dead}.tmp`)];
    const live = join(dir, `.generator.safetensors.${process.ppid}.tmp`);
    for (const f of [...stale, live]) writeFileSync(f, 'half-written');
    writeFileSync(join(dir, 'notes.tmp'), 'user file');
    await train({ runDir: dir, schedule });
    expect(stale.filter(existsSync)).toEqual([]);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(join(dir, 'notes.tmp'))).toBe(true);
    expect(removeStaleTempFiles(join(tmp, 'absent'))).toEqual([]);
  });

  it('SIGTERM to the launcher saves a checkpoint and exits 130, as Ctrl-C does', async () => {
    const out = join(tmp, 'sigterm');
    const args = ['--data', synth, '--layout', 'paired', '--source', 'blurred', '--target', 'clear', '--size', '32', '--ngf', '4', '--ndf', '4', '--blocks', '1',
      '--content-weight', '0', '--iters', '1000', '--log-every', '1', '--out', out];
    // Through the launcher (as bin/comi.js runs it): the signal reaches the training process once.
    const child = spawn(process.execPath, ['--import', LOADER, join(ROOT, 'test', 'cli', 'launcher_entry.ts'), 'train', ...args], { cwd: ROOT });
    let stdout = '';
    child.stdout.on('data', (b) => (stdout += b));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const log = runPaths(out).log;
    const deadline = Date.now() + 120_000;
    while (!(existsSync(log) && readFileSync(log, 'utf8').split('\n').length > 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    const m = /^interrupted at iteration (\d+) of 1000; checkpoint saved/.exec(stdout);
    expect(m, stdout).not.toBeNull();
    expect(readCheckpoint(runPaths(out).checkpoint).meta.iteration).toBe(Number(m![1]));
  });
});
