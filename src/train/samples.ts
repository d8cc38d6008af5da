// Sample images during training: input | output | target side by side, 8-bit PNG, so a run can be judged by eye.
import { join } from 'node:path';
import { writeImage } from '../data/image.js';
import { denormalize, type Normalization } from '../data/normalize.js';

/** [−1, 1] ↦ 0..255: the generator's tanh range shown as a plain 8-bit image (values outside are clipped). */
const DISPLAY: Normalization = { kind: 'range', min: 0, max: 255 };

export function samplePath(dir: string, iteration: number): string {
  return join(dir, `iter_${String(iteration).padStart(7, '0')}.png`);
}

/** panels: planar C×size×size arrays in the model's [−1, 1] range, written left to right. */
export async function writeSample(path: string, panels: Float32Array[], channels: 1 | 3, size: number): Promise<void> {
  const width = size * panels.length;
  const data = new Uint8Array(width * size * channels);
  panels.forEach((planar, k) => {
    if (planar.length !== channels * size * size) throw new Error(`sample panel ${k}: ${planar.length} values for ${channels}×${size}×${size}`);
    const pixels = denormalize(planar, DISPLAY, 8, channels);
    for (let y = 0; y < size; y++) {
      data.set(pixels.subarray(y * size * channels, (y + 1) * size * channels), (y * width + k * size) * channels);
    }
  });
  await writeImage(path, { width, height: size, channels, bitDepth: 8, data });
}
