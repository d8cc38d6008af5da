// Dawn's adapter-limit warnings are filtered (issue 18, finding 11): a one-line error stays one line.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dawnWarningFilter } from '../../src/cli/launch.js';

const ROOT = join(import.meta.dirname, '..', '..');
const LOADER = pathToFileURL(join(ROOT, 'test', 'graph', 'ts-loader.mjs')).href;
const WARNING = 'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.';

const run = (script: string, args: string[]) => {
  const env = { ...process.env };
  delete env.COMI_LAUNCHED;
  return spawnSync(process.execPath, ['--import', LOADER, script, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
};

describe('Dawn warning filter', () => {
  it('drops the two limit warnings and their native frames, keeps everything else, passes partial lines through', () => {
    let out = '';
    const f = dawnWarningFilter((s) => (out += s));
    f.push('Warn');
    f.push(`ing: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n    at Init (physical_device.cpp:12)\n`);
    f.push('\rtile [##..] 1/2 50%');
    expect(out).toBe('\rtile [##..] 1/2 50%');
    f.push('\nWarning: something else\ncomi: an error\n');
    f.push('Warning: half');
    f.end();
    expect(out).toBe('\rtile [##..] 1/2 50%\nWarning: something else\ncomi: an error\nWarning: half');
  });

  it('comi info through the launcher prints no Dawn warning; an error stays one line with its exit code', () => {
    const direct = run(join(ROOT, 'src', 'cli', 'main.ts'), ['info']);
    const launched = run(join(ROOT, 'test', 'cli', 'launcher_entry.ts'), ['info']);
    expect(launched.status).toBe(0);
    expect(launched.stdout).toBe(direct.stdout);
    expect(launched.stderr.split('\n').filter((l) => l.startsWith('Warning: '))).toEqual([]);
    // Without the launcher Dawn's lines are there (where this Dawn prints them at all).
    if (direct.stderr.includes('artificially reduced')) expect(direct.stderr).toContain(WARNING);
    const bad = run(join(ROOT, 'test', 'cli', 'launcher_entry.ts'), ['correct', '--model', 'nowhere', '--out', 'x', '--tile', '-4', 'a.png']);
    expect(bad.stderr).toBe("comi correct: --tile must be ≥ 8, got '-4'\n");
    expect(bad.status).toBe(2);
  });
});
