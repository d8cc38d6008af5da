// Fuzz suite: seeded mutations (truncation, flipped bytes, inflated header sizes, overwritten runs) of valid PNG,
// JPEG and TIFF files. Every case must decode to a well-formed image or fail with one clean line naming the file;
// none may crash, hang or grow memory beyond the decode budget. The cases run in a child process
// (fuzz_runner.ts) so that a hang can be killed and named.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BYTES_PER_PIXEL } from '../../src/data/limits.js';
import { FUZZ_MAX_PIXELS } from './fuzz_runner.js';

const CASES = 300;
/** A case that takes longer than this (after the child's start-up) counts as a hang. */
const HANG_MS = 10_000;
const START_MS = 60_000;
const LOADER = pathToFileURL(join(import.meta.dirname, '..', 'graph', 'ts-loader.mjs')).href;
const RUNNER = join(import.meta.dirname, 'fuzz_runner.ts');
/** Node and the TypeScript loader take about 150 MiB; the decode budget comes on top. */
const RSS_BUDGET_KIB = 300 * 1024 + (FUZZ_MAX_PIXELS * BYTES_PER_PIXEL) / 1024;

interface Case { case: number; source: string; how: string; outcome: 'decoded' | 'error' | 'crash' | 'hang'; message: string }

/** Runs cases [first, first + count) in one child; stops at a hang and reports it. */
function runChild(format: string, first: number, count: number, dir: string): Promise<{ cases: Case[]; maxRssKiB: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', LOADER, RUNNER, format, String(first), String(count), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const cases: Case[] = [];
    let maxRssKiB = 0;
    let buffered = '';
    let stderr = '';
    let timer = setTimeout(onHang, START_MS);
    function onHang() {
      const next = first + cases.length;
      cases.push({ case: next, source: '', how: '', outcome: 'hang', message: `no result in ${HANG_MS} ms` });
      child.kill('SIGKILL');
    }
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if ('maxRssKiB' in line) maxRssKiB = line.maxRssKiB;
        else cases.push(line);
        clearTimeout(timer);
        timer = setTimeout(onHang, HANG_MS);
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const hung = cases.at(-1)?.outcome === 'hang';
      if (!hung && code !== 0) {
        // The child itself died (out of memory, a native crash): the case after the last reported one crashed it.
        cases.push({ case: first + cases.length, source: '', how: '', outcome: 'crash', message: `runner exited ${code ?? signal}: ${stderr.slice(-500)}` });
      }
      resolve({ cases, maxRssKiB });
    });
  });
}

describe('fuzzed PNG, JPEG and TIFF files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'comi-fuzz-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const format of ['png', 'jpeg', 'tiff']) {
    it(`${CASES} mutated ${format} files: a clean error or a well-formed image, no crash, hang or memory blow-up`, async () => {
      const started = performance.now();
      const cases: Case[] = [];
      let peak = 0;
      while (cases.length < CASES) {
        const r = await runChild(format, cases.length, CASES - cases.length, dir);
        cases.push(...r.cases);
        peak = Math.max(peak, r.maxRssKiB);
        if (r.cases.length === 0) throw new Error('fuzz runner reported nothing');
      }
      const count = (o: Case['outcome']) => cases.filter((c) => c.outcome === o).length;
      const bad = cases.filter((c) => c.outcome === 'crash' || c.outcome === 'hang');
      console.log(
        `fuzz ${format}: ${cases.length} cases, ${count('error')} clean errors, ${count('decoded')} decoded, ${count('crash')} crashes, ` +
          `${count('hang')} hangs, peak RSS ${(peak / 1024).toFixed(0)} MiB, ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(bad.map((c) => `case ${c.case} (${c.source}, ${c.how}): ${c.outcome}: ${c.message}`)).toEqual([]);
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThan(RSS_BUDGET_KIB);
      // Inflated headers and truncations must be caught, not all decoded as if nothing happened.
      expect(count('error')).toBeGreaterThan(CASES / 3);
    });
  }
});
