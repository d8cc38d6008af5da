// Image-quality metrics of the paper (PSNR, SSIM, PCC), equal to scikit-image 0.19.3 / numpy on the same pixels.
// CPU, float64 throughout. The caller always states dataRange: no guessing from the data type.

/** Interleaved H×W×C pixels; `Image` from src/data/image.ts fits this shape. */
export interface MetricImage {
  width: number;
  height: number;
  channels: number;
  data: ArrayLike<number>;
}

export interface PsnrOptions {
  /** Distance between the minimum and maximum possible pixel value (255 for 8-bit, 65535 for 16-bit, 1 for [0,1]). */
  dataRange: number;
}

export interface SsimOptions extends PsnrOptions {
  /** 'skimage': structural_similarity defaults (7×7 uniform window, sample covariance).
   *  'wang': gaussian_weights=True, sigma=1.5, use_sample_covariance=False (11×11 window), as Wang et al. 2004. */
  convention: 'skimage' | 'wang';
  /** Optional check: must equal the images' channel count if given. */
  channels?: number;
}

const K1 = 0.01;
const K2 = 0.03;

function fmtSize(img: MetricImage): string {
  return `${img.width}×${img.height}×${img.channels}`;
}

function checkPair(op: string, pred: MetricImage, truth: MetricImage): void {
  for (const [what, img] of [['pred', pred], ['truth', truth]] as const) {
    if (!img || typeof img !== 'object' || !img.data) throw new Error(`${op}: ${what} must be an image {width, height, channels, data}, got ${img === null ? 'null' : typeof img}`);
    const { width, height, channels, data } = img;
    if (![width, height, channels].every((v) => Number.isInteger(v) && v >= 1)) {
      throw new Error(`${op}: ${what} width, height and channels must be positive integers, got ${width}×${height}×${channels}`);
    }
    if (data.length !== width * height * channels) {
      throw new Error(`${op}: ${what} has ${data.length} values, expected ${width}×${height}×${channels} = ${width * height * channels}`);
    }
  }
  if (pred.width !== truth.width || pred.height !== truth.height || pred.channels !== truth.channels) {
    throw new Error(`${op}: image sizes differ: pred ${fmtSize(pred)}, truth ${fmtSize(truth)} (width×height×channels)`);
  }
}

function checkDataRange(op: string, opts: PsnrOptions | undefined): number {
  const r = opts?.dataRange;
  if (typeof r !== 'number' || !Number.isFinite(r) || r <= 0) {
    throw new Error(`${op}: dataRange must be a positive finite number (e.g. 255 for 8-bit, 65535 for 16-bit, 1 for [0,1]), got ${r}`);
  }
  return r;
}

/** skimage.metrics.peak_signal_noise_ratio(truth, pred, data_range): 10·log10(R² / MSE) in dB; Infinity for
 *  identical images. */
export function psnr(pred: MetricImage, truth: MetricImage, opts: PsnrOptions): number {
  checkPair('psnr', pred, truth);
  const r = checkDataRange('psnr', opts);
  const a = pred.data;
  const b = truth.data;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = b[i] - a[i];
    sum += d * d;
  }
  return 10 * Math.log10((r * r) / (sum / a.length));
}

/** numpy.corrcoef over all pixels and channels (paper eq. 3). NaN when either image is constant (zero variance:
 *  r is 0/0, as numpy's nan), so a per-image table shows it instead of aborting a batch. */
export function pcc(pred: MetricImage, truth: MetricImage): number {
  checkPair('pcc', pred, truth);
  const a = pred.data;
  const b = truth.data;
  const n = a.length;
  let ma = 0;
  let mb = 0;
  let constA = true;
  let constB = true;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
    if (a[i] !== a[0]) constA = false;
    if (b[i] !== b[0]) constB = false;
  }
  // an exact test: a float mean of equal values may miss them by an ulp and give a noise "correlation"
  if (constA || constB) return NaN;
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return Math.min(1, Math.max(-1, sab / Math.sqrt(saa) / Math.sqrt(sbb)));
}

/** Window weights (sum 1) as skimage passes them to scipy.ndimage: uniform_filter(size=7) or
 *  gaussian_filter(sigma=1.5, truncate=3.5) whose radius int(3.5·1.5 + 0.5) = 5 gives 11 taps. */
function windowWeights(convention: 'skimage' | 'wang'): Float64Array {
  if (convention === 'skimage') return new Float64Array(7).fill(1 / 7);
  const sigma = 1.5;
  const radius = Math.trunc(3.5 * sigma + 0.5);
  const w = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) {
    w[k + radius] = Math.exp((-0.5 / (sigma * sigma)) * k * k);
    sum += w[k + radius];
  }
  for (let k = 0; k < w.length; k++) w[k] /= sum;
  return w;
}

/** Mean SSIM of one channel plane. skimage filters the whole image with mode 'reflect' and then crops the
 *  (win−1)/2 border before the mean; every kept pixel's window lies inside the image, so filtering only the kept
 *  region (no padding) gives the same numbers. Horizontal pass per input row into a ring of `win` rows, vertical
 *  pass per output row: O(win) work per pixel and O(win·W) memory. */
function ssimPlane(x: Float64Array, y: Float64Array, width: number, height: number, w: Float64Array, covNorm: number, c1: number, c2: number): number {
  const win = w.length;
  const wo = width - (win - 1);
  const ring = win * wo;
  const hx = new Float64Array(ring);
  const hy = new Float64Array(ring);
  const hxx = new Float64Array(ring);
  const hyy = new Float64Array(ring);
  const hxy = new Float64Array(ring);
  const slots = new Int32Array(win);
  let total = 0;
  for (let row = 0; row < height; row++) {
    const slot = (row % win) * wo;
    const base = row * width;
    for (let o = 0; o < wo; o++) {
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      for (let k = 0, p = base + o; k < win; k++, p++) {
        const a = x[p];
        const b = y[p];
        const wk = w[k];
        sx += wk * a;
        sy += wk * b;
        sxx += wk * (a * a);
        syy += wk * (b * b);
        sxy += wk * (a * b);
      }
      hx[slot + o] = sx;
      hy[slot + o] = sy;
      hxx[slot + o] = sxx;
      hyy[slot + o] = syy;
      hxy[slot + o] = sxy;
    }
    if (row < win - 1) continue;
    for (let k = 0; k < win; k++) slots[k] = ((row - win + 1 + k) % win) * wo;
    let rowSum = 0;
    for (let o = 0; o < wo; o++) {
      let ux = 0;
      let uy = 0;
      let uxx = 0;
      let uyy = 0;
      let uxy = 0;
      for (let k = 0; k < win; k++) {
        const p = slots[k] + o;
        const wk = w[k];
        ux += wk * hx[p];
        uy += wk * hy[p];
        uxx += wk * hxx[p];
        uyy += wk * hyy[p];
        uxy += wk * hxy[p];
      }
      // the expression order of skimage, so identical images give exactly 1
      const vx = covNorm * (uxx - ux * ux);
      const vy = covNorm * (uyy - uy * uy);
      const vxy = covNorm * (uxy - ux * uy);
      const a1 = 2 * ux * uy + c1;
      const a2 = 2 * vxy + c2;
      const b1 = ux * ux + uy * uy + c1;
      const b2 = vx + vy + c2;
      rowSum += (a1 * a2) / (b1 * b2);
    }
    total += rowSum;
  }
  return total / (wo * (height - (win - 1)));
}

/** skimage.metrics.structural_similarity(truth, pred, data_range, channel_axis=-1 when channels > 1) with K1 0.01,
 *  K2 0.03: the mean over channels of each channel's mean SSIM. Throws when the window exceeds the image, as
 *  skimage does (7 px for 'skimage', 11 px for 'wang'). */
export function ssim(pred: MetricImage, truth: MetricImage, opts: SsimOptions): number {
  checkPair('ssim', pred, truth);
  const range = checkDataRange('ssim', opts);
  const { convention, channels } = opts;
  if (convention !== 'skimage' && convention !== 'wang') throw new Error(`ssim: convention must be 'skimage' or 'wang', got ${convention}`);
  const { width, height, channels: nc } = truth;
  if (channels !== undefined && channels !== nc) throw new Error(`ssim: opts.channels is ${channels} but the images have ${nc} channels`);
  const w = windowWeights(convention);
  const win = w.length;
  if (width < win || height < win) {
    throw new Error(`ssim: window ${win}×${win} (${convention} convention) exceeds the image size ${width}×${height}`);
  }
  const np = win * win;
  const covNorm = convention === 'skimage' ? np / (np - 1) : 1;
  const c1 = (K1 * range) ** 2;
  const c2 = (K2 * range) ** 2;
  // de-interleave into float64 planes so the hot loops see one array type
  const x = new Float64Array(width * height);
  const y = new Float64Array(width * height);
  let sum = 0;
  for (let c = 0; c < nc; c++) {
    for (let i = 0, j = c; i < x.length; i++, j += nc) {
      x[i] = truth.data[j];
      y[i] = pred.data[j];
    }
    sum += ssimPlane(x, y, width, height, w, covNorm, c1, c2);
  }
  return sum / nc;
}
