#!/usr/bin/env python3
"""Dev-time check (not CI) that the files our writers produce open identically in tifffile and PIL:
    /usr/bin/python3 scripts/check-image-writer.py
Runs the round-trip tests of test/data/image.test.ts with COMI_KEEP_IMAGES set, so they leave each written file next
to a .raw copy of the pixels it should hold, then reads every file with tifffile (TIFF), PIL (PNG, JPEG) and
compares: TIFF and PNG bit-exact with the expected dtype and tags, JPEG by channel count and PSNR."""
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
import tifffile
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
DTYPES = {'8': np.uint8, '16': np.uint16, '32': np.float32}


def main():
    out = tempfile.mkdtemp(prefix='comi-writer-')
    env = dict(os.environ, COMI_KEEP_IMAGES=out)
    subprocess.run(['npx', 'vitest', 'run', 'test/data/image.test.ts', '-t', 'round trips'],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    failures = 0
    files = sorted(glob.glob(os.path.join(out, 'rt_*.*[!w]')))
    for path in files:
        name = os.path.basename(path)
        bits, channels = name.split('.')[0].split('_')[1:3]
        raw = np.fromfile(path + '.raw', dtype=DTYPES[bits])
        if name.endswith('.tif'):
            with tifffile.TiffFile(path) as t:
                page = t.pages[0]
                got = page.asarray()
                tags = page.tags
                fmt = tags['SampleFormat'].value
                fmt = int(fmt[0] if isinstance(fmt, tuple) else fmt)
                ok = (got.dtype == DTYPES[bits] and np.array_equal(got.ravel(), raw, equal_nan=bits == '32')
                      and tags['PhotometricInterpretation'].value == (2 if channels == '3' else 1)
                      and fmt == (3 if bits == '32' else 1) and 'RowsPerStrip' in tags)
                detail = f'{got.dtype} {got.shape}, {len(page.dataoffsets)} strip(s), ' \
                         f'photometric {int(tags["PhotometricInterpretation"].value)}, sampleformat {fmt}'
        elif name.endswith('.png'):
            im = Image.open(path)
            got = np.array(im)
            ok = np.array_equal(got.ravel(), raw) and got.dtype.itemsize * 8 >= int(bits)
            detail = f'PIL mode {im.mode}, {got.shape}'
            if bits == '16' and channels == '3':  # PIL holds 16-bit RGB as 8-bit: the high bytes, and the header
                with open(path, 'rb') as f:
                    head = f.read(26)
                ok = head[24] == 16 and head[25] == 2 and np.array_equal(got.ravel(), raw >> 8)
                detail = f'IHDR bit depth {head[24]}, colour type {head[25]}; PIL ({im.mode}) holds the high bytes'
        else:
            im = Image.open(path)
            got = np.array(im).astype(np.float64).ravel()
            mse = np.mean((got - raw) ** 2)
            psnr = 10 * np.log10(255 ** 2 / mse)
            ok = im.mode == ('L' if channels == '1' else 'RGB') and psnr > 35  # a channel / row mix-up is < 20 dB
            detail = f'PIL mode {im.mode}, PSNR {psnr:.2f} dB against the written pixels'
        print(f'{"ok  " if ok else "FAIL"} {name}: {detail}')
        failures += not ok
    if not files:
        sys.exit('check-image-writer: the tests wrote no files')
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
