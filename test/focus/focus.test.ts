// Focus scores against known defocus: the wafer focus series (known z per image), the BBBC006 sample (defocused vs
// in-focus planes) and synthetic z-stacks; and `comi focus` on the command line.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readdirSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { useGpu } from '../helpers/gpu.js';
import { fileFocus, imageFocus, DEFAULT_FOCUS_MEASURE, FOCUS_MEASURES, FOCUS_THRESHOLDS, type FocusMeasure } from '../../src/focus/focus.js';
import { renderField, SYNTH_DEFAULTS } from '../../src/synth/generate.js';
import type { Image } from '../../src/data/image.js';

useGpu();

const ROOT = join(import.meta.dirname, '..', '..');
const DATA = join(ROOT, '..', 'shared', 'data');
const WAFER = join(DATA, 'wafer-focus-series');
const BBBC = join(DATA, 'bbbc006-sample');
for (const d of [WAFER, BBBC]) if (!existsSync(d)) console.warn(`focus.test: ${d} absent, its tests skipped`);

/** Ranks from 1, tied values sharing their mean rank. */
function ranks(v: number[]): number[] {
  const order = v.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(v.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's ρ: Pearson correlation of the ranks. */
function spearman(a: number[], b: number[]): number {
  const [ra, rb] = [ranks(a), ranks(b)];
  const mean = (ra.length + 1) / 2;
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - mean) * (rb[i] - mean);
    da += (ra[i] - mean) ** 2;
    db += (rb[i] - mean) ** 2;
  }
  return num / Math.sqrt(da * db);
}

describe('spearman', () => {
  it('is 1 for a monotone relation, −1 reversed, and averages ties', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 25, 100])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 1, 2], [1, 2, 3])).toBeCloseTo(0.8660254, 6);
  });
});

describe('focus scores', () => {
  it('do not change with gain (8-bit vs the same image ×200 as 16-bit) and are 0 for a blank image', async () => {
    const n = 64 * 48;
    const data = Uint8Array.from({ length: n }, (_, i) => 40 + ((i * 37) % 97) + (i % 64 > 32 ? 60 : 0));
    const a = await imageFocus({ width: 64, height: 48, channels: 1, bitDepth: 8, data }, { tile: 32 });
    const b = await imageFocus({ width: 64, height: 48, channels: 1, bitDepth: 16, data: Uint16Array.from(data, (v) => v * 200) }, { tile: 32 });
    for (const m of FOCUS_MEASURES) expect(b[m] / a[m]).toBeCloseTo(1, 4);
    expect(a.tiles.map((t) => [t.x, t.y, t.width, t.height])).toEqual([[0, 0, 32, 32], [32, 0, 32, 32], [0, 32, 32, 16], [32, 32, 32, 16]]);
    const blank = await imageFocus({ width: 16, height: 16, channels: 1, bitDepth: 8, data: new Uint8Array(256) }, { tile: 16 });
    expect([blank.nvl, blank.tenengrad, blank.brenner]).toEqual([0, 0, 0]);
  });

  it('refuse a bin that is no power of two or an image too small for it', async () => {
    const img: Image = { width: 8, height: 8, channels: 1, bitDepth: 8, data: new Uint8Array(64) };
    await expect(imageFocus(img, { bin: 3, tile: 9 })).rejects.toThrow(/bin must be a power of two, got 3/);
    await expect(imageFocus(img, { bin: 4 })).rejects.toThrow(/image 8×8 is too small for bin 4 \(needs 12 px\)/);
  });

  it('rank |z| within each synthetic z-stack (ρ ≥ 0.9, every measure)', async () => {
    const o = { ...SYNTH_DEFAULTS.fluorescence, layout: 'zstack' as const, count: 3, size: 128, planes: 7 };
    for (let i = 0; i < o.count; i++) {
      const planes = renderField(o, i).planes;
      const z = planes.map((p) => Math.abs(p.z));
      const scores = await Promise.all(planes.map((p) => imageFocus(p.image, { tile: 128 })));
      for (const m of FOCUS_MEASURES) expect(-spearman(z, scores.map((s) => s[m])), `field ${i} ${m}`).toBeGreaterThanOrEqual(0.9);
    }
  });
});

describe.skipIf(!existsSync(WAFER))('wafer focus series (../shared/data)', () => {
  // Fields of view: level{1,2}_jpeg/…_ix000_iyNNN_<z>.jpeg (level 2 spells it zoff<z>um).
  const fields = new Map<string, { z: number; path: string }[]>();
  if (existsSync(WAFER)) {
    for (const level of ['level1_jpeg', 'level2_jpeg']) {
      for (const f of readdirSync(join(WAFER, level))) {
        const m = /_ix(\d+)_iy(\d+)_(?:zoff)?(-?[\d.]+)(?:um)?\.jpeg$/.exec(f);
        if (!m) continue;
        const key = `${level.slice(0, 6)} ix${m[1]} iy${m[2]}`;
        fields.set(key, [...(fields.get(key) ?? []), { z: Math.abs(Number(m[3])), path: join(WAFER, level, f) }]);
      }
    }
  }
  const rho: Record<string, number> = {};
  beforeAll(async () => {
    for (const [key, images] of fields) {
      const scores = [];
      for (const im of images) scores.push((await fileFocus(im.path))[DEFAULT_FOCUS_MEASURE]);
      rho[key] = -spearman(images.map((im) => im.z), scores);
    }
    process.stdout.write(`wafer ${DEFAULT_FOCUS_MEASURE}: Spearman ρ(−score, |z|) ${Object.entries(rho).map(([k, r]) => `${k} ${r.toFixed(3)}`).join(', ')}\n`);
  }, 300_000);

  it('finds the 7 fields of view with 10–11 offsets each', () => {
    expect(fields.size).toBe(7);
    for (const images of fields.values()) expect(images.length).toBeGreaterThanOrEqual(10);
  });

  // The three level-2 fields iy001–iy003 are blank wafer (JPEG noise and illumination rings, a speck or two): no
  // classical measure ranks their |z| (docs/focus.md), so they are reported above and held to nothing.
  const TEXTURED = ['level1 ix000 iy025', 'level1 ix000 iy026', 'level1 ix000 iy027', 'level2 ix000 iy000'];
  it.each(TEXTURED)('ranks |z| in %s (ρ ≥ 0.9)', (key) => {
    expect(rho[key]).toBeGreaterThanOrEqual(0.9);
  });
});

describe.skipIf(!existsSync(BBBC))('BBBC006 sample (../shared/data)', () => {
  it('flags every defocused z00 image and no in-focus z10 image', async () => {
    const t = FOCUS_THRESHOLDS[DEFAULT_FOCUS_MEASURE];
    for (const [folder, flagged] of [['z00_defocused', true], ['z10_aligned', false]] as const) {
      const files = readdirSync(join(BBBC, folder)).filter((f) => f.endsWith('.tif'));
      expect(files.length).toBeGreaterThan(5);
      for (const f of files) expect((await fileFocus(join(BBBC, folder, f)))[DEFAULT_FOCUS_MEASURE] < t, `${folder}/${f}`).toBe(flagged);
    }
  }, 120_000);
});

describe('comi focus', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'comi-focus-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const comi = (args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(ROOT, 'test', 'graph', 'ts-loader.mjs')).href, join(ROOT, 'src', 'cli', 'main.ts'), 'focus', ...args], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, COMI_DEBUG: '' },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l.startsWith('comi') || l.startsWith('failed')) };
  };

  it.skipIf(!existsSync(BBBC))('writes a row per image and tile with the flag', () => {
    const out = join(dir, 'focus.csv');
    const r = comi(['--out', out, join(BBBC, 'z00_defocused'), join(BBBC, 'z10_aligned', 'BBBC006_z_aligned__a01__s1__w1_10.tif')]);
    expect(r.status, r.stderr.join('\n')).toBe(0);
    expect(r.stdout).toMatch(/26 image\(s\) scored into .*: 25 need correction \(tenengrad < 1\.14\)/);
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('path,region,x,y,width,height,nvl,tenengrad,brenner,needs_correction');
    const images = rows.filter((l) => l.split(',')[1] === 'image');
    expect(images).toHaveLength(26);
    expect(rows.filter((l) => l.split(',')[1] === 'tile')).toHaveLength(26 * 3 * 3); // 696×520 in 256-px tiles
    expect(images.filter((l) => l.endsWith(',1')).every((l) => l.includes('z00_defocused'))).toBe(true);
  });

  it('bad flags and unreadable inputs: one line each, non-zero exit', () => {
    const bin = comi(['--out', join(dir, 'x.csv'), '--bin', '3', ROOT]);
    expect(bin.status).toBe(2);
    expect(bin.stderr).toEqual(["comi focus: --bin must be a power of two, got '3'"]);
    const missing = comi(['--out', join(dir, 'x.csv'), join(dir, 'nothing.png')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toEqual([`failed: ${join(dir, 'nothing.png')}: no such file or folder`, 'comi focus: 1 input(s) failed (listed above)']);
  });
});
