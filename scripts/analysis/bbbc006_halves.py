"""The one matched BBBC006 pair as a real train / held-out split (docs/results.md, issue 15)

Well a01 site s1 w1 of ../shared/data/bbbc006-sample (z00 defocused → z10 in focus, 696×520, 16-bit): the left
half (348 columns) becomes four 348×130 training bands, so that training keeps its 80/20 guard split; the right
half is the held-out pair. The halves do not overlap; the nuclei in them are different ones. BANDS (default 4) sets
how many bands the left half is cut into; 1 keeps it whole (training's guard then scores training crops).
usage: /usr/bin/python3 scripts/analysis/bbbc006_halves.py SHARED_DATA OUT [BANDS]
  then: comi compare --train OUT/train --test OUT/test …
"""
import os
import sys

import numpy as np
import tifffile
from PIL import Image  # reads the LZW-compressed z00 TIFF without imagecodecs

data, out = sys.argv[1], sys.argv[2]
BANDS = int(sys.argv[3]) if len(sys.argv) > 3 else 4
sources = {
    'blurred': f'{data}/bbbc006-sample/z00_defocused/00_mcf-z-stacks-03212011_a01_s1_w1a571d43d-5554-47fd-bb54-5db68290e5a7.tif',
    'clear': f'{data}/bbbc006-sample/z10_aligned/BBBC006_z_aligned__a01__s1__w1_10.tif',
}
for role, path in sources.items():
    image = np.array(Image.open(path))
    half = image.shape[1] // 2
    left, right = image[:, :half], image[:, half:]
    band = left.shape[0] // BANDS
    os.makedirs(f'{out}/train/{role}', exist_ok=True)
    os.makedirs(f'{out}/test/{role}', exist_ok=True)
    for k in range(BANDS):
        tifffile.imwrite(f'{out}/train/{role}/band{k}.tif', np.ascontiguousarray(left[k * band:(k + 1) * band]))
    tifffile.imwrite(f'{out}/test/{role}/a01_s1_w1.tif', np.ascontiguousarray(right))
    print(f'{role}: {image.shape[1]}×{image.shape[0]} {image.dtype} → {BANDS} training bands of {half}×{band}, '
          f'held-out {right.shape[1]}×{right.shape[0]}')
