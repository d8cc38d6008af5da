// Test-time augmentation: the corrector is not equivariant to flips and quarter turns, so averaging its outputs
// over the square's symmetries cancels part of its orientation-dependent error (grain, ringing) at n× the cost.

/** A symmetry of the square: an optional mirror (x → width − 1 − x), then k quarter turns. */
export interface Symmetry { flip: boolean; turns: 0 | 1 | 2 | 3 }

/** The counts --tta accepts, and the symmetries each averages: 2 adds the mirror, 4 the half turns, 8 all. */
export const TTA_COUNTS = [1, 2, 4, 8] as const;
export type TtaCount = typeof TTA_COUNTS[number];
const ORDER: Symmetry[] = [
  { flip: false, turns: 0 }, { flip: true, turns: 0 }, { flip: false, turns: 2 }, { flip: true, turns: 2 },
  { flip: false, turns: 1 }, { flip: true, turns: 1 }, { flip: false, turns: 3 }, { flip: true, turns: 3 },
];

export function symmetries(count: TtaCount): Symmetry[] {
  if (!TTA_COUNTS.includes(count)) throw new Error(`test-time augmentation takes ${TTA_COUNTS.join(', ')} symmetries, not ${count}`);
  return ORDER.slice(0, count);
}

/** Where pixel (y, x) of a height × width plane lands after s, as [y, x] in the transformed plane. */
function destinationOf(s: Symmetry, y: number, x: number, height: number, width: number): [number, number] {
  let h = height;
  let w = width;
  if (s.flip) x = width - 1 - x;
  // One quarter turn counter-clockwise: (y, x) of an h × w plane goes to (w − 1 − x, y) of a w × h plane.
  for (let t = 0; t < s.turns; t++) {
    [y, x] = [w - 1 - x, y];
    [h, w] = [w, h];
  }
  return [y, x];
}

/** Planar channels × height × width pixels transformed by s (inverse: by s's inverse, from the transformed shape
 *  back to height × width). Returns the pixels and their shape. */
export function transformPlanes(planes: Float32Array, channels: number, height: number, width: number, s: Symmetry, inverse = false): { data: Float32Array; height: number; width: number } {
  const swap = s.turns % 2 === 1;
  // The forward shape; the inverse reads a transformed plane (of the forward shape) and writes height × width.
  const th = swap ? width : height;
  const tw = swap ? height : width;
  const plane = height * width;
  const out = new Float32Array(channels * plane);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [ty, tx] = destinationOf(s, y, x, height, width);
      const a = y * width + x; // index in the height × width plane
      const b = ty * tw + tx; // index in the transformed plane
      for (let c = 0; c < channels; c++) {
        if (inverse) out[c * plane + a] = planes[c * plane + b];
        else out[c * plane + b] = planes[c * plane + a];
      }
    }
  }
  return inverse ? { data: out, height, width } : { data: out, height: th, width: tw };
}
