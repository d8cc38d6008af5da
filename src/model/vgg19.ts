// VGG19 feature maps for the content loss (paper eq. 6–8): the 16-conv trunk with max pools, frozen weights from
// the cache (Keras or torchvision release, each with its own input preprocessing) or seeded random weights.
import { existsSync } from 'node:fs';
import { Tensor, scope } from '../graph/tensor.js';
import { hashNormal } from '../graph/random.js';
import { rank } from '../kernels/check.js';
import { channelAffine } from '../kernels/channel_affine.js';
import { maxPool2x2 } from '../kernels/max_pool.js';
import { relu } from '../kernels/unary.js';
import { Conv2d } from './layers.js';
import { Module, nameSeed } from './module.js';
import { cachedVggPath, defaultWeightsDir, readVggCache } from '../weights/cache.js';
import { OFFICIAL_VGG19, PREPROCESSING, VGG_CONVS, VGG_FULL_WIDTHS, type Preprocessing, type VggWeights } from '../weights/vgg19.js';

export type VggSource = 'keras' | 'torchvision' | 'random';
export const VGG_SOURCES: readonly VggSource[] = ['keras', 'torchvision', 'random'];
/** Feature maps: relu{b}_{k} after each ReLU, conv{b}_{k} before it (DeblurGAN's conv3_3). */
export const VGG_LAYERS: readonly string[] = [...VGG_CONVS.map((c) => c.relu), ...VGG_CONVS.map((c) => c.name)];

export interface VggFeatureOptions {
  source: VggSource;
  /** Default ['relu3_3'] (Keras block3_conv3, the layer of the COMI code). */
  layers?: string[];
  /** Random weights' seed. */
  seed?: number;
  /** Folder of the vgg19-<source>.safetensors files (default: the user's cache, see defaultWeightsDir). */
  cacheDir?: string;
}

export interface VggFeatures {
  /** x: image in [-1, 1], [N, 1 or 3, H, W]; preprocessing (grayscale→3 channels, keras BGR/0–255/mean or
   * torchvision RGB/[0,1]/mean-std) is applied inside, differentiably. Returns one map per requested layer. */
  features(x: Tensor): Tensor[];
  /** Recorded in the run's config.json: source, layers, preprocessing. */
  describe(): { source: VggSource; layers: string[]; preprocessing: string };
  dispose(): void;
}

/** No cached weights for the source: one line naming both ways to get them and the ways to train without. */
export class VggWeightsMissingError extends Error {
  constructor(readonly source: 'keras' | 'torchvision', readonly path: string) {
    const r = OFFICIAL_VGG19[source];
    super(
      `no ${source} VGG19 weights at ${path}: run \`comi weights fetch vgg19 --source ${source}\` (${r.megabytes} MB download), ` +
        `or without internet download ${r.url} elsewhere and run \`comi weights import FILE\`; ` +
        'or train with `--content l1+ssim` (no download), `--vgg random` (untrained features) or a content weight of 0',
    );
    this.name = 'VggWeightsMissingError';
  }
}

/** The trunk up to a given depth; parameters named conv{b}_{k}.weight / .bias, frozen. */
class Vgg19Trunk extends Module {
  readonly convs: Conv2d[] = [];
  constructor(widths: number[], depth: number) {
    super();
    let cin = 3;
    for (let i = 0; i < depth; i++) {
      this.convs.push(this.child(VGG_CONVS[i].name, new Conv2d(cin, widths[i], 3, { padding: 1 })));
      cin = widths[i];
    }
  }
}

const depthOf = (layers: string[]): number => Math.max(...layers.map((l) => VGG_CONVS.findIndex((c) => c.relu === l || c.name === l))) + 1;

/** torchvision's own VGG init (Kaiming normal, fan_out, ReLU; zero biases), drawn from (seed, parameter name). */
function randomWeights(seed: number, depth: number): { weights: VggWeights; widths: number[] } {
  const weights: VggWeights = {};
  const widths = VGG_CONVS.map((c) => VGG_FULL_WIDTHS[c.block - 1]);
  let cin = 3;
  for (const [i, c] of VGG_CONVS.slice(0, depth).entries()) {
    const cout = widths[i];
    const shape = [cout, cin, 3, 3];
    weights[`${c.name}.weight`] = { shape, data: hashNormal(cout * cin * 9, nameSeed(seed, `${c.name}.weight`), Math.sqrt(2 / (9 * cout))) };
    weights[`${c.name}.bias`] = { shape: [cout], data: new Float32Array(cout) };
    cin = cout;
  }
  return { weights, widths };
}

class Vgg19Features implements VggFeatures {
  private readonly net: Vgg19Trunk;
  private readonly wanted: Map<string, number>;
  /** Convolutions that run: up to the deepest requested layer. */
  private readonly depth: number;

  constructor(private source: VggSource, private layers: string[], private prep: Preprocessing, weights: VggWeights, widths: number[]) {
    this.wanted = new Map(layers.map((l, i) => [l, i]));
    this.depth = depthOf(layers);
    this.net = new Vgg19Trunk(widths, this.depth);
    this.net.loadStateDict(weights);
    this.net.setRequiresGrad(false);
  }

  features(x: Tensor): Tensor[] {
    rank('vgg19 features', x, 4);
    const [, C, H, W] = x.shape;
    if (C !== 1 && C !== 3) throw new Error(`vgg19 features: input must have 1 (gray) or 3 (RGB) channels, got ${x.describe()}`);
    const pools = VGG_CONVS[this.depth - 1].block - 1;
    if (H >> pools < 1 || W >> pools < 1) {
      throw new Error(`vgg19 features: ${this.layers.join(', ')} needs an input of at least ${1 << pools}×${1 << pools} pixels (${pools} max pools), got ${x.describe()}`);
    }
    return scope(() => {
      const p = this.prep;
      let h = C === 1 ? channelAffine(x, [0, 0, 0], p.scale, p.shift) : channelAffine(x, p.src, p.scale, p.shift);
      const out: Tensor[] = new Array(this.layers.length);
      for (let i = 0; i < this.depth; i++) {
        const c = VGG_CONVS[i];
        if (i > 0 && c.block !== VGG_CONVS[i - 1].block) h = maxPool2x2(h);
        const conv = this.net.convs[i].forward(h);
        const before = this.wanted.get(c.name);
        if (before !== undefined) out[before] = conv;
        h = relu(conv);
        const slot = this.wanted.get(c.relu);
        if (slot !== undefined) out[slot] = h;
      }
      return out;
    });
  }

  describe(): { source: VggSource; layers: string[]; preprocessing: string } {
    return { source: this.source, layers: [...this.layers], preprocessing: this.prep.description };
  }

  dispose(): void {
    this.net.dispose();
  }
}

/** Whether the ImageNet weights of `source` are in the cache (no read, no GPU). */
export function vggWeightsCached(source: Exclude<VggSource, 'random'>, cacheDir = defaultWeightsDir()): boolean {
  return existsSync(cachedVggPath(source, cacheDir));
}

/** VGG19 features from the cached weights of `source` (or seeded random ones); throws VggWeightsMissingError when
 * the cache has none. Call after initGpu(). */
export async function loadVggFeatures(opts: VggFeatureOptions): Promise<VggFeatures> {
  const { source } = opts;
  if (!VGG_SOURCES.includes(source)) throw new Error(`vgg19: source must be one of ${VGG_SOURCES.join(', ')}, got '${source}'`);
  const layers = opts.layers ?? ['relu3_3'];
  if (!Array.isArray(layers) || layers.length === 0) throw new Error('vgg19: give at least one layer, e.g. relu3_3');
  const unknown = layers.find((l) => !VGG_LAYERS.includes(l));
  if (unknown !== undefined) throw new Error(`vgg19: unknown layer '${unknown}'; layers are ${VGG_LAYERS.join(', ')}`);
  if (new Set(layers).size !== layers.length) throw new Error(`vgg19: layer list ${layers.join(', ')} repeats a layer`);
  if (source === 'random') {
    const { weights, widths } = randomWeights(opts.seed ?? 0, depthOf(layers));
    // Random weights were never trained on either convention; torchvision's keeps inputs near unit scale.
    return new Vgg19Features(source, layers, PREPROCESSING.torchvision, weights, widths);
  }
  const path = cachedVggPath(source, opts.cacheDir ?? defaultWeightsDir());
  if (!existsSync(path)) throw new VggWeightsMissingError(source, path);
  const { weights, widths } = readVggCache(path, source);
  return new Vgg19Features(source, layers, PREPROCESSING[source], weights, widths);
}
