// Which files a correction batch reads and writes: inputs given as files, folders or globs; output names from a
// pattern; nothing overwritten unless asked. Everything here is decided before any image is decoded.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve, isAbsolute, normalize, relative, sep } from 'node:path';
import { IMAGE_EXTENSIONS } from '../data/image.js';

export type OutputDtype = 'same' | 'uint8' | 'uint16' | 'float32';
export const OUTPUT_DTYPES: readonly OutputDtype[] = ['same', 'uint8', 'uint16', 'float32'];

/** Default output name: the input's file name, in the output folder. */
export const DEFAULT_NAME_PATTERN = '{name}{ext}';
const PLACEHOLDERS = ['name', 'ext', 'parent', 'model'];

/** A file (or argument) that could not be processed, and why, in one line. */
export interface Failure {
  file: string;
  message: string;
}

export const isImage = (f: string) => !basename(f).startsWith('.') && IMAGE_EXTENSIONS.includes(extname(f).toLowerCase());
const hasGlob = (s: string) => /[*?[]/.test(s);

/** One glob path segment as a regular expression: * and ? stay inside the segment, [abc] and [!abc] are classes. */
function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i];
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = seg.slice(i + 1, end);
        re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** A glob's fixed leading folders ('data' for 'data/**\/*.tif'). */
const globRoot = (pattern: string) => {
  const parts = pattern.split(/[\\/]+/);
  return parts.slice(0, parts.findIndex(hasGlob)).join('/') || (pattern.startsWith('/') ? '/' : '.');
};

/** Files matching a glob: * ? [..] within a segment, ** for any number of folders. Hidden entries are skipped. */
function globFiles(pattern: string): string[] {
  const parts = pattern.split(/[\\/]+/);
  const first = parts.findIndex(hasGlob);
  const base = globRoot(pattern);
  const out = new Set<string>();
  const walk = (dir: string, rest: string[]): void => {
    if (rest.length === 0) return;
    const [seg, ...tail] = rest;
    if (seg === '**') {
      walk(dir, tail);
      for (const e of listDir(dir)) if (!e.startsWith('.') && isDir(join(dir, e))) walk(join(dir, e), rest);
      return;
    }
    const entries = hasGlob(seg) ? listDir(dir).filter((e) => !e.startsWith('.') && segmentRegex(seg).test(e)) : [seg];
    for (const e of entries) {
      const p = join(dir, e);
      if (tail.length > 0) {
        if (isDir(p)) walk(p, tail);
      } else if (existsSync(p) && !isDir(p)) out.add(p);
    }
  };
  walk(base, parts.slice(first));
  return [...out].sort();
}

/**
 * The image files named by command-line arguments: a file as given (whatever its extension: reading it says
 * whether it is supported), a folder's images (not recursive), or a glob's images. Missing paths and patterns
 * that match nothing become failures; the other arguments still count. keys[i] names files[i] relative to its
 * argument (a folder's or glob's root; a file as given), so it is the same on every machine that mounts the data
 * elsewhere: batches shard and record inputs by it.
 */
export function expandInputs(args: readonly string[]): { files: string[]; keys: string[]; failures: Failure[] } {
  const files: string[] = [];
  const keys: string[] = [];
  const failures: Failure[] = [];
  const seen = new Set<string>();
  const add = (f: string, root?: string) => {
    const key = resolve(f);
    if (!seen.has(key)) {
      seen.add(key);
      files.push(f);
      keys.push((root === undefined ? normalize(f) : relative(root, f)).split(sep).join('/'));
    }
  };
  for (const arg of args) {
    if (existsSync(arg)) {
      if (isDir(arg)) {
        const images = listDir(arg).map((e) => join(arg, e)).filter((p) => isImage(p) && !isDir(p));
        if (images.length === 0) failures.push({ file: arg, message: `folder has no images (${IMAGE_EXTENSIONS.join(', ')})` });
        images.forEach((f) => add(f, arg));
      } else add(arg);
    } else if (hasGlob(arg)) {
      const images = globFiles(arg).filter(isImage);
      if (images.length === 0) failures.push({ file: arg, message: `pattern matches no images (${IMAGE_EXTENSIONS.join(', ')})` });
      images.forEach((f) => add(f, globRoot(arg)));
    } else failures.push({ file: arg, message: 'no such file or folder' });
  }
  return { files, keys, failures };
}

/** Throws unless pattern is relative and uses only known placeholders. */
export function checkNamePattern(pattern: string): void {
  if (!pattern || isAbsolute(pattern)) throw new Error(`output name pattern must be a relative path, got '${pattern}'`);
  for (const m of pattern.matchAll(/\{([^}]*)\}/g)) {
    if (!PLACEHOLDERS.includes(m[1])) throw new Error(`unknown placeholder {${m[1]}} in output name pattern '${pattern}' (use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`);
  }
  if (pattern.split(/[\\/]/).includes('..')) throw new Error(`output name pattern '${pattern}' must stay inside the output folder (no '..')`);
}

/**
 * Output path of one input: {name} file name without extension, {ext} its extension — or .tif when that format
 * cannot hold the output type (JPEG holds 8-bit only, PNG no float) or it is no image extension — {parent} the
 * input's folder name, {model} the run folder's name.
 */
export function outputPath(input: string, outDir: string, pattern: string, dtype: OutputDtype, model: string): string {
  const ext = extname(input);
  const lower = ext.toLowerCase();
  const jpeg = lower === '.jpg' || lower === '.jpeg';
  const keepsExt = IMAGE_EXTENSIONS.includes(lower) && (dtype === 'same' || dtype === 'uint8' || (dtype === 'uint16' && !jpeg) || lower === '.tif' || lower === '.tiff');
  const values: Record<string, string> = {
    name: basename(input, ext),
    ext: keepsExt ? ext : '.tif',
    parent: basename(dirname(resolve(input))),
    model,
  };
  return join(outDir, pattern.replace(/\{(\w+)\}/g, (_, k: string) => values[k]));
}

export const outputExists = (output: string) => `${output} exists; pass --overwrite to replace it`;

export interface Job {
  input: string;
  output: string;
}

/**
 * Pairs inputs with outputs. An output that exists (unless overwrite), that two inputs would share, or that is the
 * input itself becomes a failure for that input; its image is not corrected.
 */
export function planJobs(inputs: readonly string[], outDir: string, pattern: string, dtype: OutputDtype, model: string, overwrite: boolean): { jobs: Job[]; failures: Failure[] } {
  checkNamePattern(pattern);
  const jobs: Job[] = [];
  const failures: Failure[] = [];
  const taken = new Map<string, string>();
  for (const input of inputs) {
    const output = outputPath(input, outDir, pattern, dtype, model);
    const key = resolve(output);
    const other = taken.get(key);
    if (other !== undefined) {
      failures.push({ file: input, message: `would write ${output}, as ${other} does; put {parent} into --name to tell them apart` });
    } else if (key === resolve(input)) {
      failures.push({ file: input, message: `output ${output} is the input itself; choose another --out or --name` });
    } else if (existsSync(output) && !overwrite) {
      failures.push({ file: input, message: outputExists(output) });
    } else if (!IMAGE_EXTENSIONS.includes(extname(output).toLowerCase())) {
      failures.push({ file: input, message: `output ${output} has no image extension (${IMAGE_EXTENSIONS.join(', ')})` });
    } else {
      taken.set(key, input);
      jobs.push({ input, output });
    }
  }
  return { jobs, failures };
}
