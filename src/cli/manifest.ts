// `comi manifest check`: after a sharded batch, do the shards' manifests cover every input exactly once, and is
// every recorded output there with the recorded content?
import { join } from 'node:path';
import { parseFlags, str, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import { expandInputs } from '../correct/files.js';
import { checkCoverage, readManifests } from '../correct/batch.js';

const FLAGS: FlagSpec = {
  out: { type: 'string' },
  manifest: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const HELP = `usage: comi manifest check --out DIR [--manifest MDIR] INPUT...

Checks a batch written by comi correct --shard K/N (any N): with the same INPUT arguments, every input must be
recorded exactly once in MDIR/*.jsonl (default DIR/manifests), no other input may be recorded, and every
recorded output must exist under DIR with the recorded sha256. Lists what is wrong and exits 1 if anything is.
`;

/** At most this many names per problem are printed; the counts are always complete. */
const LIST = 20;

export async function manifestCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP);
    return;
  }
  if (sub !== 'check') throw new UsageError(`unknown subcommand '${sub}'; use: comi manifest check`);
  const { values, positionals } = parseFlags(rest, FLAGS, true);
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const out = str(values, 'out');
  if (!out) throw new UsageError('--out DIR is required (the batch output folder)');
  if (positionals.length === 0) throw new UsageError('no inputs given (the same files, folders or globs as the batch)');
  const expanded = expandInputs(positionals);
  if (expanded.failures.length) throw new UsageError(`${expanded.failures[0].file}: ${expanded.failures[0].message}`);
  const r = checkCoverage(expanded.keys, readManifests(str(values, 'manifest') ?? join(out, 'manifests')), out);
  const problems: Array<[string, string[]]> = [
    ['missing (no manifest line)', r.missing],
    ['duplicated (more than one line)', r.duplicated],
    ['not among the inputs', r.unknown],
    ['output missing or changed', r.badOutputs],
  ];
  for (const [what, names] of problems) {
    for (const n of names.slice(0, LIST)) process.stderr.write(`${what}: ${n}\n`);
    if (names.length > LIST) process.stderr.write(`${what}: … ${names.length - LIST} more\n`);
  }
  const summary = problems.filter(([, n]) => n.length).map(([what, n]) => `${n.length} ${what}`).join(', ');
  if (summary) throw new Error(`${r.inputs} input(s), ${r.lines} manifest line(s): ${summary}`);
  process.stdout.write(`manifest check: ${r.inputs} input(s), each recorded exactly once; all outputs present and intact\n`);
}
