// What a user must hear about the training data before it trains: files left out for lack of a partner, and a
// split that leaves one side empty (the held-out side is what `comi evaluate --model` measures).
import { FIELDS_APART, type Dataset, type Split } from '../data/dataset.js';

const SHOWN = 5;

/** A note listing the files that found no partner (they are not used), or null. */
export function unmatchedNote(ds: Dataset): string | null {
  const u = ds.unmatched;
  if (u.length === 0) return null;
  const what = ds.layout === 'zstack' ? 'a file of the same name or index in the other planes' : 'a partner of the same name';
  return `${u.length} file(s) without ${what} are not used: ${u.slice(0, SHOWN).join(', ')}${u.length > SHOWN ? `, … (${u.length - SHOWN} more)` : ''}`;
}

/** How the split treated pairs that share an in-focus image (one field's focus series), or null when none do. */
export function sharedTargetNote(split: Split, unitOf: (key: string) => string): string | null {
  const fields = (keys: string[]) => new Set(keys.map(unitOf)).size;
  if (fields(split.train) + fields(split.test) === split.train.length + split.test.length) return null;
  const seen = new Set(split.train.map(unitOf));
  const shared = split.test.filter((k) => seen.has(unitOf(k))).length;
  if (shared > 0) {
    return `${shared} held-out pair(s) share their in-focus image with training pairs (fields are held out whole from ${FIELDS_APART} fields on): their scores (the guard, --keep best) favour a corrector that memorises those fields`;
  }
  return `pairs that share an in-focus image stay on one side: ${split.test.length} held-out pair(s) of ${fields(split.test)} field(s) that training never sees, ${split.train.length} training pair(s) of ${fields(split.train)}`;
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
