// Messages that name the real cause (issue 18, findings 9 and 12): negative numbers reach the flag's own check,
// file-system errors say what is wrong, a rate is not made up from one tile, the banner describes the generator that
// corrects, and a file that cannot be written leaves no empty folder.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.js';
import { parseCorrectFlags } from '../../src/cli/correct.js';
import { parseTrainFlags } from '../../src/cli/train.js';
import { Progress } from '../../src/cli/progress.js';
import { describeFsError } from '../../src/io/fs_errors.js';
import { readImage, writeImage } from '../../src/data/image.js';
import { setDecodeLimits } from '../../src/data/limits.js';
import { parseEvaluateFlags } from '../../src/cli/evaluate.js';
import { parseInfoFlags } from '../../src/cli/info.js';
import { correctFiles } from '../../src/correct/correct.js';
import { runConfig, writeTestRun } from '../correct/helpers.js';

useGpu();

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'comi-messages-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('messages name the real cause', () => {
  it('a negative number is checked by its flag, not called an ambiguous argument', () => {
    expect(() => parseCorrectFlags(['--model', 'm', '--out', 'o', '--tile', '-4', 'x.png'])).toThrow(/^--tile must be ≥ 8, got '-4'$/);
    expect(() => parseTrainFlags(['--out', 'o', '--data', 'd', '--layout', 'paired', '--source', 'a', '--target', 'b', '--lr', '-1'])).toThrow(/^--lr must be > 0, got '-1'$/);
    expect(() => parseCorrectFlags(['--model', 'm', '--out', 'o', '--tile', '-.5', 'x.png'])).toThrow(/^--tile must be an integer, got '-\.5'$/);
  });

  it('comi info takes --help and refuses anything else (it once ignored its arguments, --adapter X included)', () => {
    expect(parseInfoFlags([])).toEqual({ help: false });
    expect(parseInfoFlags(['--help'])).toEqual({ help: true });
    expect(parseInfoFlags(['-h'])).toEqual({ help: true });
    expect(() => parseInfoFlags(['--adapter', 'x'])).toThrow(/^Unknown option '--adapter'/);
    expect(() => parseInfoFlags(['gpu0'])).toThrow(/^unexpected argument 'gpu0' \(comi info takes no arguments\)$/);
  });

  it('--max-pixels applies to the images a command reads', async () => {
    const path = join(dir, 'small.png');
    await writeImage(path, { width: 4, height: 4, channels: 1, bitDepth: 8, data: new Uint8Array(16) });
    const prev = setDecodeLimits({});
    try {
      parseEvaluateFlags(['--pred', 'p', '--truth', 't', '--out', 'o', '--max-pixels', '10']);
      await expect(readImage(path)).rejects.toThrow(/declares 4×4 = 16 pixels, above the limit of 10 pixels \(--max-pixels N raises it/);
      expect(() => parseEvaluateFlags(['--pred', 'p', '--truth', 't', '--out', 'o', '--max-pixels', '0'])).toThrow(/^--max-pixels must be ≥ 1, got '0'$/);
    } finally {
      setDecodeLimits(prev);
    }
  });

  it('file-system errors become "cannot write PATH: cause"', async () => {
    const erofs = Object.assign(new Error("EROFS: read-only file system, open '/ro/out.png'"), { code: 'EROFS', syscall: 'open', path: '/ro/out.png' });
    expect((describeFsError(erofs) as Error).message).toBe('cannot write /ro/out.png: read-only file system');
    const mkdir = Object.assign(new Error("ENOENT: no such file or directory, mkdir '/x/y'"), { code: 'ENOENT', syscall: 'mkdir', path: '/x/y' });
    expect((describeFsError(mkdir) as Error).message).toBe('cannot create folder /x/y: no such file or folder');
    const other = new Error('something else');
    expect(describeFsError(other)).toBe(other);
    // /sys refuses new files even to root.
    await expect(writeImage('/sys/comi-test.png', { width: 1, height: 1, channels: 1, bitDepth: 8, data: new Uint8Array(1) })).rejects.toThrow(
      /^cannot write \/sys\/comi-test\.png: (permission denied|read-only file system)$/,
    );
  });

  it('one tile done at once shows no rate (not 1000000000.00 it/s)', () => {
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => lines.push(s)) as typeof process.stderr.write;
    try {
      new Progress('tile', 1).done();
    } finally {
      process.stderr.write = write;
    }
    expect(lines.join('')).toMatch(/^\r?(\x1b\[K)?tile \[#{20}\] 1\/1 100%\n?$/);
  });

  it('a search that outgrows its first total (the RL fit going past 8 px) raises it; past the total the bar stays full', () => {
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => lines.push(s)) as typeof process.stderr.write;
    try {
      const bar = new Progress('fit', 2);
      bar.update(3, '', true);
      bar.setTotal(4).update(3, '', true);
    } finally {
      process.stderr.write = write;
    }
    const shown = lines.join('').split(/[\r\n]/).map((l) => l.replace('\x1b[K', '')).filter((l) => l);
    expect(shown[0]).toMatch(/^fit \[#{20}\] 3\/2 150%/);
    expect(shown[1]).toMatch(/^fit \[#{15}\.{5}\] 3\/4 75%/);
  });

  it("correct: the plan shows the loaded generator's ngf; a file that cannot be written leaves no empty folder", async () => {
    const run = join(dir, 'run');
    const config = runConfig({ channels: 1, ngf: 4 });
    (await writeTestRun(run, config)).dispose();
    writeFileSync(join(run, 'config.json'), JSON.stringify({ ...config, model: { ...config.model, ngf: 64 } })); // edited by hand
    const input = join(dir, 'f.tif');
    await writeImage(input, { width: 16, height: 16, channels: 1, bitDepth: 32, data: new Float32Array(256).fill(0.5) });
    const out = join(dir, 'out');
    let ngf = 0;
    // A float image cannot be written as PNG: the write fails after its folder out/sub/deeper was made.
    const res = await correctFiles({ model: run, inputs: [input], out, name: 'sub/deeper/{name}.png', onPlan: (p) => (ngf = p.config.model.ngf) });
    expect(ngf).toBe(4);
    expect(res.failures).toEqual([{ file: input, message: expect.stringMatching(/^cannot write .*f\.png: not supported: 32-bit float PNG/) }]);
    expect(existsSync(join(out, 'sub'))).toBe(false);
    expect(readdirSync(out)).toEqual([]);
  });
});
