import { describe, it, expect } from 'vitest';
import { sharedTargetNote } from '../../src/train/data_checks.js';

describe('sharedTargetNote', () => {
  const field = (k: string) => k.slice(0, 2);
  it('is null when no two pairs share an in-focus image', () => {
    expect(sharedTargetNote({ seed: 0, trainFraction: 0.8, train: ['a', 'b', 'c'], test: ['d'] }, (k) => k)).toBeNull();
  });
  it('counts fields on each side when they are kept apart', () => {
    const split = { seed: 0, trainFraction: 0.8, train: ['f0_1', 'f0_2', 'f1_1', 'f1_2'], test: ['f2_1', 'f2_2'] };
    expect(sharedTargetNote(split, field)).toBe(
      'pairs that share an in-focus image stay on one side: 2 held-out pair(s) of 1 field(s) that training never sees, 4 training pair(s) of 2',
    );
  });
  it('warns when held-out pairs show fields that training sees (one field, or a split saved before)', () => {
    const split = { seed: 0, trainFraction: 0.8, train: ['f0_1', 'f0_2', 'f0_3'], test: ['f0_4'] };
    expect(sharedTargetNote(split, field)).toMatch(/^1 held-out pair\(s\) share their in-focus image with training pairs \(fields are held out whole from 4 fields on\): .*memorises those fields$/);
  });
});
