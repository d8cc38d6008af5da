// CycleGAN's ImagePool: the discriminator sees a history of generated images, not only the latest, which damps
// oscillation. Until full it stores and returns each image; then with p = 0.5 it swaps in the new one and returns
// a stored one. A batch is stored as one entry.
import { Tensor } from '../graph/tensor.js';

export class ImagePool {
  private images: Tensor[] = [];
  private retired: Tensor[] = [];

  constructor(readonly capacity: number, private random: () => number) {}

  /** The image to show the discriminator; valid until the next query. */
  query(image: Tensor): Tensor {
    for (const t of this.retired) t.dispose();
    this.retired = [];
    if (this.capacity === 0) return image;
    if (this.images.length < this.capacity) {
      this.images.push(image.keep());
      return image;
    }
    if (this.random() > 0.5) {
      const i = Math.min(this.capacity - 1, Math.floor(this.random() * this.capacity));
      const old = this.images[i];
      this.images[i] = image.keep();
      this.retired.push(old);
      return old;
    }
    return image;
  }

  async state(): Promise<{ shape: number[]; data: Float32Array }[]> {
    return Promise.all(this.images.map(async (t) => ({ shape: [...t.shape], data: await t.data() })));
  }

  loadState(state: { shape: number[]; data: Float32Array }[]): void {
    this.dispose();
    this.images = state.map((s) => Tensor.fromArray(s.data, s.shape).keep());
  }

  dispose(): void {
    for (const t of [...this.images, ...this.retired]) t.dispose();
    this.images = [];
    this.retired = [];
  }
}
