// What a user must hear about the training data before it trains: files left out for lack of a partner, and a
// split that leaves one side empty (the held-out side is what `comi evaluate --model` measures).
import type { Dataset, Split } from '../data/dataset.js';

const SHOWN = 5;

/** A note listing the files that found no partner (they are not used), or null. */
export function unmatchedNote(ds: Dataset): string | null {
  const u = ds.unmatched;
  if (u.length === 0) return null;
  const what = ds.layout === 'zstack' ? 'a file of the same name or index in the other planes' : 'a partner of the same name';
  return `${u.length} file(s) without ${what} are not used: ${u.slice(0, SHOWN).join(', ')}${u.length > SHOWN ? `, … (${u.length - SHOWN} more)` : ''}`;
}

/** Throws, with what to do, if the split of a new run leaves the training or the held-out side empty. */
export function checkSplit(split: Split, ds: Dataset): void {
  if (split.train.length > 0 && split.test.length > 0) return;
  const unit = ds.layout === 'unpaired' ? 'image(s) per domain' : ds.layout === 'zstack' ? 'field(s)' : 'pair(s)';
  const n = ds.layout === 'unpaired' ? Math.min(ds.source.length, ds.target.length) : ds.keys.length;
  throw new Error(
    `the dataset has ${n} ${unit}: the ${Math.round(split.trainFraction * 100)}/${Math.round((1 - split.trainFraction) * 100)} split leaves the ` +
      `${split.test.length === 0 ? 'held-out (test)' : 'training'} side empty; add data so that there are at least 2 ${unit}`,
  );
}
