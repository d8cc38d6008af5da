// `comi train` / `node train.js` as a user meets it (issue items 4 and 5): bad input gives one line and a non-zero exit
// with no run folder left behind, Ctrl-C saves a checkpoint and exits 130, and a short run on real BBBC006 data
// writes a generator that loads.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { useGpu } from '../helpers/gpu.js';
import { Tensor } from '../../src/graph/tensor.js';
import { noGrad } from '../../src/autograd/tape.js';
import { writeImage, readImage, type Image } from '../../src/data/image.js';
import { fitNormalization, normalize } from '../../src/data/normalize.js';
import { hash32 } from '../../src/graph/random.js';
import { UsageError } from '../../src/cli/errors.js';
import { autoBin, resolveRlInput, parseTrainFlags, flagsForMethod } from '../../src/cli/train.js';
import { loadGenerator, modelFolder, readRunConfig, runPaths, writeRunConfig } from '../../src/train/run_folder.js';
import { readCheckpoint } from '../../src/train/checkpoint.js';
import { readLog } from '../../src/train/log.js';
import { skipWithoutF16 } from '../helpers/f16.js';

useGpu();

const ROOT = join(import.meta.dirname, '..', '..');
const LOADER = pathToFileURL(join(ROOT, 'test', 'graph', 'ts-loader.mjs')).href;
const BBBC = join(ROOT, '..', 'shared', 'data', 'bbbc006-sample');
const HAVE_BBBC = existsSync(BBBC);
if (!HAVE_BBBC) console.warn(`cli.test: ${BBBC} absent, the BBBC006 training smoke test is skipped`);

// Dawn's own native diagnostics go straight to stderr from C++; every other stderr line is ours.
const dawnLog = (line: string) => line === '' || line.startsWith('Warning: ') || /^\s+at \S+ \(.*\.cpp:\d+\)$/.test(line);

function childArgs(args: string[]): string[] {
  return ['--import', LOADER, join(ROOT, 'src', 'cli', 'main.ts'), 'train', ...args];
}
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.COMI_DEBUG;
  return env;
}

/** `comi train ARGS` in a child process (the TypeScript sources, no build needed). */
function runTrain(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, childArgs(args), { cwd: ROOT, env: childEnv(env), encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, ours: r.stderr.split('\n').filter((l) => !dawnLog(l)) };
}

/** Exactly one line of ours on stderr, naming the command, without a stack trace. */
function expectOneLine(r: ReturnType<typeof runTrain>, status: number, pattern: RegExp): void {
  expect(r.ours, r.ours.join('\n')).toHaveLength(1);
  expect(r.ours[0]).toMatch(/^comi train: /);
  expect(r.ours[0]).toMatch(pattern);
  expect(r.status).toBe(status);
}

function gray8(width: number, height: number, seed: number): Image {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = hash32(i, seed);
  return { width, height, channels: 1, bitDepth: 8, data };
}

let tmp: string;
let data: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'comi-train-cli-'));
  data = join(tmp, 'data');
  for (const d of ['blurred', 'clear']) mkdirSync(join(data, d), { recursive: true });
  for (let i = 0; i < 4; i++) {
    await writeImage(join(data, 'blurred', `f${i}.png`), gray8(40, 36, i));
    await writeImage(join(data, 'clear', `f${i}.png`), gray8(40, 36, 10 + i));
  }
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const tiny = ['--size', '32', '--ngf', '4', '--ndf', '4', '--blocks', '1', '--content-weight', '0'];
const paired = (root: string) => ['--data', root, '--layout', 'paired', '--source', 'blurred', '--target', 'clear', ...tiny];

describe('bad input: one line, non-zero exit, no run folder', () => {
  it('missing data folder', () => {
    const out = join(tmp, 'run-missing');
    const r = runTrain([...paired(join(tmp, 'nope')), '--out', out]);
    expectOneLine(r, 1, /dataset folder .*nope does not exist$/);
    expect(existsSync(out)).toBe(false);
  });

  it('a folder with no images', () => {
    const root = join(tmp, 'noimages');
    mkdirSync(join(root, 'blurred'), { recursive: true });
    mkdirSync(join(root, 'clear'));
    writeFileSync(join(root, 'blurred', 'readme.txt'), 'no images here');
    const out = join(tmp, 'run-noimages');
    const r = runTrain([...paired(root), '--out', out]);
    expectOneLine(r, 1, /source folder .*blurred has no images \(\.png, \.jpg/);
    expect(existsSync(out)).toBe(false);
  });

  it('an unreadable (corrupt) image', () => {
    const root = join(tmp, 'corrupt');
    mkdirSync(root);
    for (const d of ['blurred', 'clear']) mkdirSync(join(root, d));
    copyFileSync(join(data, 'blurred', 'f0.png'), join(root, 'blurred', 'f0.png'));
    copyFileSync(join(data, 'clear', 'f0.png'), join(root, 'clear', 'f0.png'));
    const good = readFileSync(join(data, 'blurred', 'f1.png'));
    writeFileSync(join(root, 'blurred', 'f1.png'), good.subarray(0, 60)); // a PNG cut short
    copyFileSync(join(data, 'clear', 'f1.png'), join(root, 'clear', 'f1.png'));
    const out = join(tmp, 'run-corrupt');
    const r = runTrain([...paired(root), '--out', out]);
    // Loading progress may precede it; the error is the one line naming the command.
    const errors = r.ours.filter((l) => !l.startsWith('loading images'));
    expectOneLine({ ...r, ours: errors }, 1, /cannot read .*blurred\/f1\.png: truncated PNG/);
    expect(existsSync(out)).toBe(false);
  });

  it('a pair whose images differ in size', async () => {
    const root = join(tmp, 'sizes');
    for (const d of ['blurred', 'clear']) mkdirSync(join(root, d), { recursive: true });
    await writeImage(join(root, 'blurred', 'a.png'), gray8(40, 36, 1));
    await writeImage(join(root, 'clear', 'a.png'), gray8(36, 40, 2));
    const out = join(tmp, 'run-sizes');
    const r = runTrain([...paired(root), '--out', out]);
    const errors = r.ours.filter((l) => !l.startsWith('loading images'));
    expectOneLine({ ...r, ours: errors }, 1, /pair sizes differ: blurred\/a\.png is 40×36, clear\/a\.png is 36×40$/);
    expect(existsSync(out)).toBe(false);
  });

  it('--content vgg without cached VGG19 weights stops before training with the missing-weights line', () => {
    const out = join(tmp, 'run-novgg');
    const cache = join(tmp, 'empty-cache');
    const args = ['--data', data, '--layout', 'paired', '--source', 'blurred', '--target', 'clear', '--size', '32', '--content', 'vgg', '--out', out];
    expectOneLine(runTrain(args, { COMI_CACHE: cache }), 1, /^comi train: no keras VGG19 weights at .*empty-cache.*: run `comi weights fetch vgg19 --source keras`.*`--content l1\+ssim` .*`--vgg random` .* or a content weight of 0$/);
    expect(existsSync(out)).toBe(false);
  });

  it('without --content and without cached VGG19 weights, trains on the recommended pixel terms and says so', () => {
    const out = join(tmp, 'run-default-content');
    const args = ['--data', data, '--layout', 'paired', '--source', 'blurred', '--target', 'clear', '--size', '32', '--ngf', '4', '--ndf', '4',
      '--blocks', '1', '--iters', '2', '--register', '4', '--rl-input', '1.5,3', '--out', out];
    const r = runTrain(args, { COMI_CACHE: join(tmp, 'empty-cache') });
    expect(r.status, r.ours.join('\n')).toBe(0);
    expect(r.ours.join('\n')).toMatch(/note: content loss: l1\+ssim \(no VGG19 keras weights here; this is the recommended recipe/);
    expect(r.ours.join('\n')).toMatch(/note: registration \(±4 px\): /);
    expect(r.ours.join('\n')).toMatch(/note: input stage: Richardson–Lucy, Gaussian σ 1\.50 px, 3 iterations/);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.model.rlInput).toEqual({ sigma: 1.5, iterations: 3 });
    expect(config.losses.content).toEqual(['l1', 'ssim']);
    expect(config.data.bin).toBeUndefined();
  });

  it('--bin 2 trains on binned pairs, records it, and its corrector returns images of the input size', async () => {
    const big = join(tmp, 'data-big');
    for (const d of ['blurred', 'clear']) mkdirSync(join(big, d), { recursive: true });
    for (let i = 0; i < 3; i++) {
      await writeImage(join(big, 'blurred', `f${i}.png`), gray8(81, 72, i));
      await writeImage(join(big, 'clear', `f${i}.png`), gray8(81, 72, 10 + i));
    }
    const out = join(tmp, 'run-bin');
    const r = runTrain([...paired(big), '--iters', '2', '--bin', '2', '--out', out]);
    expect(r.status, r.ours.join('\n')).toBe(0);
    expect(r.ours.join('\n')).toMatch(/note: binned 2×2: the network trains and corrects on images of 41×36 \(the first\), its output upsampled back/);
    expect(readRunConfig(out).data.bin).toBe(2);
    const c = spawnSync(process.execPath, ['--import', LOADER, join(ROOT, 'src', 'cli', 'main.ts'), 'correct', '--model', out, '--out', join(tmp, 'bin-out'), join(big, 'blurred', 'f0.png')], { cwd: ROOT, env: childEnv(), encoding: 'utf8' });
    expect(c.status, c.stderr).toBe(0);
    const corrected = await readImage(join(tmp, 'bin-out', 'f0.png'));
    expect([corrected.width, corrected.height, corrected.bitDepth]).toEqual([81, 72, 8]);
    // Found once the images are read: after the loading progress, one line and no stack trace.
    const small = runTrain([...paired(big), '--iters', '2', '--bin', '3', '--out', join(tmp, 'run-bin3')]);
    expect(small.status).toBe(1);
    expect(small.ours.filter((l) => l.startsWith('comi train: ') || /^\s+at /.test(l))).toHaveLength(1);
    expect(small.ours.at(-1)).toMatch(/^comi train: .*data-big\/blurred\/f0\.png is 81×72, 27×24 binned 3×3: smaller than the crop size 32; use a smaller --bin or --size$/);
    expect(existsSync(join(tmp, 'run-bin3'))).toBe(false);
  }, 120_000);

  it('an unknown layout and invalid flag values exit 2 (usage errors)', () => {
    const out = join(tmp, 'run-flags');
    expectOneLine(runTrain(['--data', data, '--layout', 'stack', '--out', out]), 2, /--layout must be one of paired, zstack, unpaired, got 'stack'$/);
    expectOneLine(runTrain([...paired(data), '--size', '34', '--out', out]), 2, /--size must be a multiple of 4 \(the generator halves it twice\), got '34'$/);
    expect(existsSync(out)).toBe(false);
  });

  it('every flag value is validated (one-line usage errors naming the flag)', () => {
    const base = [...paired(data), '--out', join(tmp, 'never')];
    const cases: [string[], RegExp][] = [
      [['--iters', '0'], /^--iters must be ≥ 1, got '0'$/],
      [['--iters', '2.5'], /^--iters must be an integer, got '2.5'$/],
      [['--size', '16'], /^--size must be ≥ 32, got '16'$/],
      [['--lr', 'fast'], /^--lr must be a number, got 'fast'$/],
      [['--lr', '0'], /^--lr must be > 0, got '0'$/],
      [['--beta2', '1'], /^--beta2 must be < 1, got '1'$/],
      [['--ngf', '0'], /^--ngf must be ≥ 1, got '0'$/],
      [['--batch=-1'], /^--batch must be ≥ 1, got '-1'$/],
      [['--decay-start', '200', '--iters', '100'], /^--decay-start must be ≤ 100, got '200'$/],
      [['--cycle-weight=-0.1'], /^--cycle-weight must be ≥ 0, got '-0\.1'$/],
      [['--gan', 'wgan'], /^--gan must be one of lsgan, log, got 'wgan'$/],
      [['--vgg', 'imagenet'], /^--vgg must be one of keras, torchvision, random, got 'imagenet'$/],
      [['--upsampling', 'bilinear'], /^--upsampling must be one of transpose, resize, got 'bilinear'$/],
      [['--normalization', '12bit'], /^--normalization must be one of auto, 8bit, 16bit-range, percentile, got '12bit'$/],
      [['--percentiles', '99,1'], /^--percentiles takes LOW,HIGH with 0 ≤ LOW < HIGH ≤ 100, got '99,1'$/],
      [['--normalization', '8bit', '--percentiles', '1,99'], /^--percentiles applies to --normalization auto or percentile, not 8bit$/],
      [['--seed=-3'], /^--seed must be ≥ 0, got '-3'$/],
      [['--checkpoint-every', '0'], /^--checkpoint-every must be ≥ 1, got '0'$/],
      [['--time-limit', '0'], /^--time-limit must be ≥ 0\.1, got '0'$/],
      [['--time-limit', 'soon'], /^--time-limit must be a number, got 'soon'$/],
      [['--pool-size', 'many'], /^--pool-size must be a number, got 'many'$/],
      [['--register', '-1'], /^--register must be ≥ 0, got '-1'$/],
      [['--register', '1.5'], /^--register must be an integer, got '1.5'$/],
      [['--bin', '0'], /^--bin must be ≥ 1, got '0'$/],
      [['--bin', '2.5'], /^--bin must be an integer, got '2.5'$/],
      [['--bin', 'auto'], /^--bin auto chooses the factor from the blur that --rl-input fit measures; add --rl-input fit, or give --bin N$/],
      [['--bin', 'auto', '--rl-input', '2,10'], /^--bin auto chooses the factor/],
      [['--rl-input', 'auto'], /^--rl-input takes fit or SIGMA,ITERATIONS \(σ in \(0, 100\] px, 1–1000 iterations\), got 'auto'$/],
      [['--rl-input', '2,0'], /^--rl-input takes fit or SIGMA,ITERATIONS .*got '2,0'$/],
      [['--rl-input', '2'], /^--rl-input takes fit or SIGMA,ITERATIONS .*got '2'$/],
      [['--in-focus', 'Z007'], /^--in-focus\/--planes are for --layout zstack; --layout paired takes --source and --target$/],
      [['extra'], /^unexpected argument 'extra' \(flags take the form --name value\)$/],
      [['--itres', '5'], /^Unknown option '--itres'/],
    ];
    for (const [extra, pattern] of cases) {
      let error: unknown;
      try {
        parseTrainFlags([...base, ...extra]);
      } catch (err) {
        error = err;
      }
      expect(error, extra.join(' ')).toBeInstanceOf(UsageError);
      expect((error as Error).message, extra.join(' ')).toMatch(pattern);
    }
    const missing: [string[], RegExp][] = [
      [['--layout', 'paired', '--source', 'a', '--target', 'b', '--out', 'x'], /^--data DIR is required/],
      [['--data', data, '--source', 'a', '--target', 'b', '--out', 'x'], /^--layout is required: paired, zstack or unpaired$/],
      [['--data', data, '--layout', 'unpaired', '--source', 'a', '--out', 'x'], /^--layout unpaired needs --source FOLDER and --target FOLDER/],
      [['--data', data, '--layout', 'zstack', '--out', 'x'], /^--layout zstack needs --in-focus FOLDER/],
      [['--data', data, '--layout', 'paired', '--source', 'a', '--target', 'b'], /^--out RUN is required/],
      [['--resume'], /^--resume needs the run folder: --resume RUN$/],
    ];
    for (const [argv, pattern] of missing) expect(() => parseTrainFlags(argv), argv.join(' ')).toThrow(pattern);
    expect(() => parseTrainFlags(['--data', data, '--layout', 'unpaired', '--source', 'a', '--target', 'b', '--out', 'x', '--register', '4']))
      .toThrow(/^--register aligns pairs: the unpaired layout has none$/);
    expect(parseTrainFlags([...base, '--register', '6'])!.config!.data.register).toBe(6);
    expect(parseTrainFlags(base)!.config!.data.register).toBeUndefined();
    expect(parseTrainFlags([...base, '--bin', '4'])!.config!.data.bin).toBe(4);
    expect(parseTrainFlags(base)!.config!.data.bin).toBeUndefined();
    expect(parseTrainFlags([...base, '--rl-input', '1.5,4'])!.config!.model.rlInput).toEqual({ sigma: 1.5, iterations: 4 });
    expect(parseTrainFlags([...base, '--time-limit', '2.5'])!.timeLimit).toBe(150);
    expect(parseTrainFlags(base)!.timeLimit).toBeUndefined();
    expect(() => parseTrainFlags(['--data', data, '--layout', 'zstack', '--in-focus', 'clear', '--out', 'x', '--rl-input', 'fit']))
      .toThrow(/^--rl-input fit scores RL on pairs of the paired layout; give --rl-input SIGMA,ITERATIONS$/);
  });

  it('--rl-input fit: σ and iterations fitted on the pairs and recorded before training', async () => {
    const parsed = parseTrainFlags([...paired(data), '--out', join(tmp, 'rl-fit'), '--rl-input', 'fit'])!;
    expect(parsed.fitRlInput).toBe(true);
    expect(parsed.config!.model.rlInput).toBeUndefined();
    const fit = await resolveRlInput(parsed);
    expect(parsed.config!.model.rlInput).toEqual({ sigma: fit!.sigma, iterations: fit!.iterations });
    expect(fit!.sigma).toBeGreaterThanOrEqual(0.5);
    expect(fit!.sigma).toBeLessThanOrEqual(8);
    expect([5, 10, 20, 30, 60, 120, 240]).toContain(fit!.iterations); // the default counts, and their extension past 30
    expect(await resolveRlInput(parsed)).toBeNull(); // fitted once
  }, 120_000);

  it('--bin auto: the largest factor that keeps the fitted σ ≥ 1.5 binned px and the images two crops wide', async () => {
    expect(autoBin(6.63, 1200, 64)).toBe(4); // the wafer series at full resolution: σ 1.66 px binned
    expect(autoBin(19.3, 520, 64)).toBe(4); // BBBC006's z00: capped by its 520-px side
    expect(autoBin(2.51, 128, 64)).toBe(1); // the demo's synthetic pairs: not binned
    expect(autoBin(3.0, 1000, 64)).toBe(2);
    expect(autoBin(40, 100, 64)).toBe(1); // no room for two crops even unbinned: left as it is
    // Here the 40×36 pairs leave no room to bin: the fit stands and nothing is recorded.
    const parsed = parseTrainFlags([...paired(data), '--out', join(tmp, 'auto-bin'), '--rl-input', 'fit', '--bin', 'auto'])!;
    expect(parsed.autoBin).toBe(true);
    const fit = await resolveRlInput(parsed);
    expect(fit!.autoBin).toBeUndefined();
    expect(parsed.config!.data.bin).toBeUndefined();
    expect(parsed.autoBin).toBe(false);
  }, 120_000);

  it('an existing non-empty --out is refused and left untouched; --resume of a folder without a run is refused', () => {
    const out = join(tmp, 'occupied');
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'user file');
    expectOneLine(runTrain([...paired(data), '--out', out]), 1, /--out .*occupied exists and is not empty; choose a new folder, or pass --resume/);
    expect(readdirSync(out)).toEqual(['keep.txt']);
    expectOneLine(runTrain(['--resume', out]), 1, /occupied is not a run folder: it has no config\.json$/);
    expect(readdirSync(out)).toEqual(['keep.txt']);
  });
});

describe('Ctrl-C and --resume through the CLI', () => {
  it('SIGINT saves a checkpoint and exits 130; --resume continues; a changed flag on --resume is refused', async () => {
    const out = join(tmp, 'interrupted');
    const child = spawn(process.execPath, childArgs([...paired(data), '--iters', '1000', '--log-every', '1', '--out', out]), { cwd: ROOT, env: childEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Interrupt once training is under way (two iterations logged).
    const log = runPaths(out).log;
    const deadline = Date.now() + 120_000;
    while (!(existsSync(log) && readFileSync(log, 'utf8').split('\n').length > 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    const m = stdout.match(/^interrupted at iteration (\d+) of 1000; checkpoint saved\. Continue with: node train\.js --resume (.*)\n$/);
    expect(m, stdout).not.toBeNull();
    const iteration = Number(m![1]);
    expect(m![2]).toBe(out);
    expect(stderr).toMatch(/stopping: the checkpoint is saved after this iteration/);
    expect(readCheckpoint(runPaths(out).checkpoint).meta.iteration).toBe(iteration);
    expect(existsSync(runPaths(out).generator)).toBe(true);

    expectOneLine(runTrain(['--resume', out, '--ngf', '8']), 2, /--ngf 8 differs from the run's config\.json \(ngf 4\); a resumed run keeps its configuration$/);
    const r = runTrain([...paired(data), '--out', out, '--resume', '--iters', String(iteration + 2), '--log-every', '1']);
    expect(r.status, r.ours.join('\n')).toBe(0);
    // --keep best (the default for paired data) names the check it kept; a random start kept is said so.
    const kept = r.stdout.match(new RegExp(`^trained ${iteration + 2} iterations; the corrector is ${out}/generator\\.safetensors, from iteration (\\d+) \\(held-out pairs: -?[\\d.]+ dB, the best check(; iteration 0: -?[\\d.]+ dB)?\\)\n`));
    expect(kept, r.stdout).not.toBeNull();
    expect(readCheckpoint(runPaths(out).checkpoint).meta.kept!.iteration).toBe(Number(kept![1]));
    if (kept![1] === '0') expect(r.stdout).toMatch(/\nnote: no check improved on the start: the corrector is the random start\n$/);
    expect(r.ours.some((l) => l.startsWith(`resuming at iteration ${iteration}:`))).toBe(true);
    expect(readLog(runPaths(out).log).map((e) => e.iteration).slice(-3)).toEqual([iteration, iteration + 1, iteration + 2]);
  });
});

describe('--resume flags', () => {
  it('accept the original command line again, refuse a changed setting, and ignore content flags of an unpaired run', () => {
    const dir = join(tmp, 'resume-flags');
    mkdirSync(dir);
    const argv = ['--data', data, '--layout', 'unpaired', '--source', 'blurred', '--target', 'clear', '--size', '64', '--lr', '2e-4', '--vgg', 'keras', '--content-weight', '1', '--out', dir];
    const config = parseTrainFlags(argv)!.config!;
    config.losses.contentWeight = 0; // what the trainer records for unpaired data
    writeRunConfig(dir, config);
    expect(parseTrainFlags([...argv, '--resume', '--iters', '200000'])).toMatchObject({ runDir: dir, resume: true, iterations: 200000 });
    expect(parseTrainFlags(['--resume', dir])).toMatchObject({ runDir: dir, resume: true, iterations: undefined });
    expect(() => parseTrainFlags(['--resume', dir, '--lr', '1e-4'])).toThrow(/^--lr 1e-4 differs from the run's config\.json \(lr 0\.0002\); a resumed run keeps its configuration$/);
    expect(() => parseTrainFlags(['--resume', dir, '--data', tmp])).toThrow(/^--data .* differs from the run's config\.json \(data ".*data"\)/);
    expect(() => parseTrainFlags(['--resume', dir, '--out', dir])).toThrow(/^give the run folder once: --resume .* or --out .* --resume$/);
    expect(() => parseTrainFlags(['--resume', join(tmp, 'absent')])).toThrow(/^run folder .*absent does not exist$/);
  });
});

describe('--init', () => {
  it('takes the architecture and intensity mapping of the corrector it starts from, unless flags say otherwise', () => {
    const base = ['--data', data, '--layout', 'paired', '--source', 'blurred', '--target', 'clear', '--init', 'pretrained:fluorescence'];
    const shipped = readRunConfig(modelFolder('pretrained:fluorescence'));
    const { config } = parseTrainFlags([...base, '--out', join(tmp, 'init-a')])!;
    expect(config!.model).toMatchObject({ ngf: shipped.model.ngf, blocks: shipped.model.blocks, upsampling: shipped.model.upsampling, globalResidual: shipped.model.globalResidual });
    expect(config!.data).toMatchObject({ normalization: shipped.data.normalization, percentiles: shipped.data.percentiles });
    const own = parseTrainFlags([...base, '--out', join(tmp, 'init-b'), '--normalization', 'auto', '--percentiles', '1,99'])!.config!;
    expect(own.data).toMatchObject({ normalization: 'auto', percentiles: { pLow: 1, pHigh: 99 } });
  });
});

describe('--start-at-input', () => {
  it('starts the corrector as its input: after one step at a negligible rate it returns the input', async () => {
    const out = join(tmp, 'start-at-input');
    const r = runTrain([...paired(data), '--global-residual', '--start-at-input', '--adversarial-weight', '0', '--cycle-weight', '0', '--content', 'l1', '--content-weight', '1', '--iters', '1', '--lr', '1e-12', '--out', out]);
    expect(r.status, r.ours.join('\n')).toBe(0);
    expect(readRunConfig(out).startAtInput).toBe(true);
    const { generator } = await loadGenerator(out);
    const x = Tensor.fromArray(Float32Array.from({ length: 32 * 32 }, (_, i) => (hash32(i, 4) / 2 ** 32) * 1.6 - 0.8), [1, 1, 32, 32]);
    const y = noGrad(() => generator.forward(x));
    const [a, b] = [await x.data(), await y.data()];
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThanOrEqual(1e-6);
    [x, y].forEach((t) => t.dispose());
    generator.dispose();
  });

  it('needs the global residual and the comi method', () => {
    const base = ['--data', data, '--layout', 'paired', '--source', 'blurred', '--target', 'clear', '--start-at-input', '--out', join(tmp, 'start-never')];
    expect(() => parseTrainFlags(base)).toThrow(new UsageError('--start-at-input needs --global-residual: without it a zero last convolution outputs a flat image'));
    expect(() => parseTrainFlags([...base, '--global-residual', '--method', 'cyclegan'])).toThrow(new UsageError('--start-at-input is not supported with --method cyclegan'));
  });
});

describe('--precision', () => {
  it('f16 trains with f16 maps and records it; bad values, other methods and adapters without shader-f16 get one line', async (ctx) => {
    const base = ['--data', data, '--layout', 'paired', '--source', 'blurred', '--target', 'clear', '--size', '32', '--ngf', '4', '--blocks', '1', '--content', 'l1'];
    expect(() => parseTrainFlags([...base, '--precision', 'f64', '--out', join(tmp, 'precision-never')])).toThrow(new UsageError("--precision must be one of f32, f16, got 'f64'"));
    expect(() => parseTrainFlags([...base.slice(0, 8), '--precision', 'f16', '--method', 'pix2pix', '--out', join(tmp, 'precision-never')])).toThrow(new UsageError('--precision f16 is not supported with --method pix2pix (only the CycleGAN\'s ResNet generators keep f16 maps)'));
    expect(parseTrainFlags([...base, '--out', join(tmp, 'precision-never')]).config!.precision).toBeUndefined();
    const none = runTrain([...base, '--iters', '1', '--precision', 'f16', '--out', join(tmp, 'precision-no-f16')], { COMI_DISABLE_FEATURES: 'shader-f16' });
    expectOneLine(none, 1, /--precision f16 is not supported on this adapter: .+ has no shader-f16$/);
    skipWithoutF16(ctx);
    const out = join(tmp, 'precision-f16');
    const r = runTrain([...base, '--iters', '2', '--log-every', '1', '--precision', 'f16', '--out', out]);
    expect(r.status, r.ours.join('\n')).toBe(0);
    expect(r.ours.join('\n')).toMatch(/^training: comi, .*, f16 maps, 2 iterations → /m);
    expect(readRunConfig(out).precision).toBe('f16');
    const losses = readLog(join(out, 'log.jsonl')).map((e) => e.losses.gTotal);
    expect(losses).toHaveLength(2);
    expect(losses.every(Number.isFinite), JSON.stringify(losses)).toBe(true);
  });
});

describe('--method', () => {
  const base = () => ['--data', data, '--layout', 'paired', '--source', 'blurred', '--target', 'clear', '--size', '64', '--out', join(tmp, 'method-never')];
  it("sets each baseline's losses and architecture from its reference", () => {
    const cfg = (m: string, ...extra: string[]) => parseTrainFlags([...base(), '--method', m, ...extra])!;
    expect(cfg('comi').config!.model.method).toBe('comi');
    expect(cfg('cyclegan').config!.losses).toMatchObject({ gan: 'lsgan', adversarialWeight: 1, contentWeight: 0, cycleWeight: 0.001 });
    const p = cfg('pix2pix');
    expect(p.config!.model).toMatchObject({ method: 'pix2pix', downs: 6 });
    expect(p.config!.losses).toEqual({ gan: 'log', adversarialWeight: 1, contentWeight: 100, cycleWeight: 0, content: ['l1'] });
    expect(p.config!.optim.poolSize).toBe(0);
    expect(parseTrainFlags([...base(), '--method', 'pix2pix', '--size', '512'])!.config!.model.downs).toBe(8);
    const d = cfg('deblurgan', '--vgg', 'random', '--content-weight', '50');
    expect(d.config!.model).toMatchObject({ method: 'deblurgan', globalResidual: true, upsampling: 'transpose' });
    expect(d.config!.losses).toEqual({ gan: 'lsgan', adversarialWeight: 1, contentWeight: 50, cycleWeight: 0, content: ['vgg'] });
    expect(d.vggLayers).toEqual(['conv3_3']);
  });

  it('refuses flags a method has no use for, and sizes a U-Net cannot take, in one line', () => {
    expect(() => parseTrainFlags([...base(), '--method', 'gan'])).toThrow(/^--method must be one of comi, cyclegan, pix2pix, deblurgan/);
    expect(() => parseTrainFlags([...base(), '--method', 'cyclegan', '--content', 'l1'])).toThrow(/^--content is not supported with --method cyclegan \(the paper's loss without its content term\)$/);
    expect(() => parseTrainFlags([...base(), '--method', 'pix2pix', '--blocks', '3'])).toThrow(/^--blocks is not supported with --method pix2pix/);
    expect(() => parseTrainFlags([...base(), '--method', 'pix2pix', '--bin', '2'])).toThrow(/^--bin is not supported with --method pix2pix/);
    expect(() => parseTrainFlags([...base(), '--method', 'deblurgan', '--global-residual'])).toThrow(/^--global-residual is not supported with --method deblurgan/);
    expect(() => parseTrainFlags([...base(), '--method', 'pix2pix', '--size', '48'])).toThrow(/^--method pix2pix needs --size a multiple of 32 .*got 48$/);
  });

  it('flagsForMethod leaves out what a method refuses, with its value', () => {
    const argv = ['--size', '64', '--blocks', '3', '--global-residual', '--content=l1', '--ngf', '8'];
    expect(flagsForMethod('pix2pix', argv)).toEqual({ argv: ['--size', '64', '--ngf', '8'], dropped: ['--blocks', '--global-residual', '--content'] });
    expect(flagsForMethod('comi', argv)).toEqual({ argv, dropped: [] });
  });
});

describe('entry points', () => {
  it('train.js without a build prints a one-line hint and exits 1', () => {
    const dir = join(tmp, 'unbuilt');
    mkdirSync(dir);
    copyFileSync(join(ROOT, 'train.js'), join(dir, 'train.js'));
    const r = spawnSync(process.execPath, [join(dir, 'train.js'), '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('train.js: not built yet — run `npm install` (or `npm run build`) in the project folder first\n');
  });

  it('--help lists the flags and exits 0', () => {
    const r = runTrain(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: node train\.js --data DIR --layout paired\|zstack\|unpaired/);
    for (const flag of ['--source', '--in-focus', '--planes', '--size', '--iters', '--ngf', '--vgg', '--content-weight', '--out', '--checkpoint-every', '--seed', '--resume']) {
      expect(r.stdout).toContain(flag);
    }
  });
});

describe.skipIf(!HAVE_BBBC)('BBBC006 sample (16-bit LZW TIFF, unpaired z00_defocused → z10_aligned)', () => {
  it('trains a few iterations at 32² through the CLI and writes a checkpoint and a generator that load', async () => {
    const out = join(tmp, 'bbbc');
    const r = runTrain([
      '--data', BBBC, '--layout', 'unpaired', '--source', 'z00_defocused', '--target', 'z10_aligned',
      '--size', '32', '--iters', '3', '--ngf', '4', '--ndf', '4', '--blocks', '2', '--checkpoint-every', '2', '--sample-every', '3', '--out', out,
    ]);
    expect(r.status, r.ours.join('\n')).toBe(0);
    expect(r.ours).toContain('note: content loss off: it compares paired images (eq. 6–8), and an unpaired dataset has no pairs');
    expect(r.stdout).toBe(`trained 3 iterations; the corrector is ${out}/generator.safetensors\n`);
    const config = readRunConfig(out);
    expect(config.data).toMatchObject({ layout: 'unpaired', normalization: 'auto', size: 32 });
    expect(config.losses.contentWeight).toBe(0);
    expect(readCheckpoint(runPaths(out).checkpoint).meta.iteration).toBe(3);
    expect(readLog(runPaths(out).log).map((e) => e.iteration)).toEqual([2, 3]); // the check at 2, and the last
    expect(existsSync(join(runPaths(out).samples, 'iter_0000003.png'))).toBe(true);

    // The generator corrects a real image crop: same size out, finite values in the tanh range.
    const { generator } = await loadGenerator(out);
    const img = await readImage(join(BBBC, 'z00_defocused', readdirSync(join(BBBC, 'z00_defocused')).filter((f) => f.endsWith('.tif'))[0]));
    const planes = normalize(img, fitNormalization(img, 'percentile'));
    const crop = new Float32Array(32 * 32);
    for (let y = 0; y < 32; y++) crop.set(planes.subarray(y * img.width, y * img.width + 32), y * 32);
    const x = Tensor.fromArray(crop, [1, 1, 32, 32]);
    const y = noGrad(() => generator.forward(x));
    const v = await y.data();
    expect(y.shape).toEqual([1, 1, 32, 32]);
    expect(v.every((a) => Number.isFinite(a) && Math.abs(a) <= 1)).toBe(true);
    [x, y].forEach((t) => t.dispose());
    generator.dispose();
  });
});
