// Small complex FFT for the synthetic-data generator (PSF and convolution on the CPU): iterative radix-2
// Cooley–Tukey on split re/im Float64Arrays, lengths a power of two; callers zero-pad with nextPow2.

export function nextPow2(n: number): number {
  if (!Number.isFinite(n) || n < 1) throw new Error(`nextPow2: expected a positive number, got ${n}`);
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

interface Plan { rev: Uint32Array; cos: Float64Array; sin: Float64Array }
const plans = new Map<number, Plan>();

function plan(n: number): Plan {
  let p = plans.get(n);
  if (p) return p;
  const bits = Math.log2(n);
  const rev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0, v = i; b < bits; b++, v >>= 1) r = (r << 1) | (v & 1);
    rev[i] = r;
  }
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let k = 0; k < n / 2; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = Math.sin((2 * Math.PI * k) / n);
  }
  p = { rev, cos, sin };
  plans.set(n, p);
  return p;
}

/**
 * In-place DFT of (re, im): forward X[k] = Σ x[j]·e^(−2πi·jk/n); inverse uses e^(+2πi·jk/n) and divides by n.
 * n = re.length must be a power of two.
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (im.length !== n) throw new Error(`fft: re and im lengths differ (${n} vs ${im.length})`);
  if (n < 1 || (n & (n - 1)) !== 0) throw new Error(`fft: length must be a power of two, got ${n} (zero-pad with nextPow2)`);
  const { rev, cos, sin } = plan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      let t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let half = 1; half < n; half *= 2) {
    const step = n / (2 * half);
    for (let start = 0; start < n; start += 2 * half) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = sign * sin[k * step];
        const a = start + k;
        const b = a + half;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
  if (inverse) {
    for (let i = 0; i < n; i++) {
      re[i] /= n;
      im[i] /= n;
    }
  }
}

/** In-place 2-D DFT of a row-major height×width complex array (both powers of two): rows, then columns. */
export function fft2d(re: Float64Array, im: Float64Array, width: number, height: number, inverse = false): void {
  if (re.length !== width * height || im.length !== width * height) {
    throw new Error(`fft2d: expected ${width}×${height} = ${width * height} values, got re ${re.length}, im ${im.length}`);
  }
  for (let y = 0; y < height; y++) {
    fft(re.subarray(y * width, (y + 1) * width), im.subarray(y * width, (y + 1) * width), inverse);
  }
  const cr = new Float64Array(height);
  const ci = new Float64Array(height);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      cr[y] = re[y * width + x];
      ci[y] = im[y * width + x];
    }
    fft(cr, ci, inverse);
    for (let y = 0; y < height; y++) {
      re[y * width + x] = cr[y];
      im[y * width + x] = ci[y];
    }
  }
}
