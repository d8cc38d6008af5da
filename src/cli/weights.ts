// `comi weights`: gets the VGG19 ImageNet weights of the content loss into the cache once (download or a file
// copied by hand), after which training works offline.
import { existsSync } from 'node:fs';
import { choice, parseFlags, str, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import { Progress } from './progress.js';
import { readSafetensors } from '../io/safetensors_file.js';
import { cachedVggPath, defaultWeightsDir, importVggFile, type ImportResult } from '../weights/cache.js';
import { fetchVgg } from '../weights/download.js';
import { OFFICIAL_VGG19, WEIGHT_SOURCES, type WeightSource } from '../weights/vgg19.js';

const K = OFFICIAL_VGG19.keras;
const T = OFFICIAL_VGG19.torchvision;
const HELP = `usage: comi weights fetch vgg19 [--source keras|torchvision] [--url URL] [--force]
       comi weights import FILE [--overwrite]
       comi weights list

VGG19 ImageNet weights for the content loss, converted once into the cache folder
${defaultWeightsDir()} (set COMI_CACHE to use COMI_CACHE/weights instead).

  fetch vgg19       download from the publisher, check the published checksum, convert and cache
    --source S      keras (default; the paper's: ${K.file}, ${K.megabytes} MB, md5)
                    torchvision (${T.file}, ${T.megabytes} MB, sha256 prefix in its name)
    --url URL       download from a mirror instead (the publisher's checksum is still required)
    --force         download again even if the cache holds these weights
  import FILE       the same for a file downloaded by hand (no internet needed): a Keras .h5,
                    a torchvision .pth or .safetensors, or a cache file from another machine
    --overwrite     replace cached weights that came from a different file
  list              show what the cache holds

Without internet: download ${K.url}
on any machine, copy it over and run \`comi weights import vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5\`.
`;

const FLAGS: FlagSpec = {
  source: { type: 'string' },
  url: { type: 'string' },
  force: { type: 'boolean' },
  overwrite: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

function describeImport(r: ImportResult, from: string): string {
  const check = r.official ? `the official release, ${OFFICIAL_VGG19[r.source].algorithm} verified` : `widths ${r.widths.join(',')}`;
  return `cached ${r.source} VGG19 weights from ${from} (${check}) at ${r.path}\n`;
}

async function fetchCommand(positionals: string[], values: Record<string, string | boolean | undefined>): Promise<void> {
  const [model, ...extra] = positionals;
  if (model !== 'vgg19') throw new UsageError(model === undefined ? 'name the weights to fetch: `comi weights fetch vgg19`' : `unknown weights '${model}'; available: vgg19`);
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const source = choice<WeightSource>(values, 'source', WEIGHT_SOURCES, 'keras');
  const url = str(values, 'url');
  if (url !== undefined && !/^https?:\/\//.test(url)) throw new UsageError(`--url must be an http:// or https:// address, got '${url}'`);
  const release = OFFICIAL_VGG19[source];
  let progress: Progress | null = null;
  const r = await fetchVgg(source, {
    url,
    force: values.force === true,
    onProgress: (bytes, total) => {
      progress ??= new Progress(`download ${release.file} (MB)`, Math.ceil((total ?? release.megabytes * 1e6) / 1e6));
      progress.update(Math.floor(bytes / 1e6));
    },
  });
  (progress as Progress | null)?.done();
  if (r.reused) process.stdout.write(`${source} VGG19 weights are already cached at ${r.path} (--force downloads them again)\n`);
  else process.stdout.write(describeImport(r, url ?? release.url));
}

async function importCommand(positionals: string[], values: Record<string, string | boolean | undefined>): Promise<void> {
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `import takes one file, got ${positionals.length}` : 'give the weight file: `comi weights import FILE`');
  const [file] = positionals;
  const r = await importVggFile(file, { overwrite: values.overwrite === true });
  if (r.unchanged) {
    process.stdout.write(`${r.path} already holds the ${r.source} weights of ${file}\n`);
    return;
  }
  process.stdout.write(describeImport(r, file));
  if (!r.official) {
    process.stderr.write(`warning: ${file} is not the published ${r.source} release (its checksum differs); its weights were imported as they are\n`);
  }
}

function listCommand(): void {
  process.stdout.write(`cache: ${defaultWeightsDir()}\n`);
  for (const source of WEIGHT_SOURCES) {
    const path = cachedVggPath(source);
    if (!existsSync(path)) {
      process.stdout.write(`  vgg19 ${source.padEnd(11)} not cached (comi weights fetch vgg19 --source ${source})\n`);
      continue;
    }
    const m = readSafetensors(path).metadata;
    const origin = `${m.origin ?? '?'}${m.official === 'true' ? ', official release' : ''}`;
    process.stdout.write(`  vgg19 ${source.padEnd(11)} ${path} (from ${origin}; widths ${m.widths ?? '?'})\n`);
  }
}

export async function weightsCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, FLAGS, true);
  const [action, ...rest] = positionals;
  if (values.help || action === undefined || action === 'help') {
    process.stdout.write(HELP);
    return;
  }
  const allowed: Record<string, string[]> = { fetch: ['source', 'url', 'force'], import: ['overwrite'], list: [] };
  if (!(action in allowed)) throw new UsageError(`unknown action '${action}'; use fetch, import or list (comi weights --help)`);
  const stray = Object.keys(values).find((f) => values[f] !== undefined && !allowed[action].includes(f));
  if (stray) throw new UsageError(`--${stray} does not apply to \`comi weights ${action}\``);
  if (action === 'fetch') await fetchCommand(rest, values);
  else if (action === 'import') await importCommand(rest, values);
  else {
    if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
    listCommand();
  }
}
