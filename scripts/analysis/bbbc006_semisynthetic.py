"""Semi-synthetic BBBC006 training pairs: the other in-focus fields blurred as the real pair is (docs/results.md)

Fits the forward model of the one matched pair's left half (a01 s1 w1, z00 ≈ a·G_σ(z10) + b with a Gaussian G_σ,
by least squares) and its noise (variance linear in the mean, from the residual of a 3-px smoothing of z00), then
blurs the in-focus z10 images of wells a02–a09 with it (σ jittered ±15 %) and adds that noise: DRAWS pairs per
field in OUT/train/{blurred,clear}. Pair them with bbbc006_halves.py's held-out right half of a01 as the test set.
usage: /usr/bin/python3 scripts/analysis/bbbc006_semisynthetic.py SHARED_DATA OUT [DRAWS]
"""
import glob
import os
import sys

import numpy as np
import tifffile
from PIL import Image  # reads the LZW-compressed z00 TIFF without imagecodecs
from scipy.ndimage import gaussian_filter
from scipy.optimize import minimize_scalar

data, out = sys.argv[1], sys.argv[2]
draws = int(sys.argv[3]) if len(sys.argv) > 3 else 2
sample = f'{data}/bbbc006-sample'
blurred = np.array(Image.open(glob.glob(f'{sample}/z00_defocused/00_*a01_s1_w1*.tif')[0])).astype(np.float64)
clear = np.array(Image.open(f'{sample}/z10_aligned/BBBC006_z_aligned__a01__s1__w1_10.tif')).astype(np.float64)
half = blurred.shape[1] // 2
left = blurred[:, :half].ravel()


def forward_fit(sigma):
    """Least-squares a, b of z00 ≈ a·G_σ(z10) + b on the left half, and the mean squared residual."""
    g = gaussian_filter(clear, sigma, mode='reflect')[:, :half].ravel()
    design = np.stack([g, np.ones_like(g)], 1)
    coef, *_ = np.linalg.lstsq(design, left, rcond=None)
    return coef, np.mean((design @ coef - left) ** 2)


sigma = minimize_scalar(lambda s: forward_fit(s)[1], bounds=(2, 40), method='bounded').x
(scale, offset), mse = forward_fit(sigma)
print(f'forward model on the left half: z00 = {scale:.4f}·G_{sigma:.2f}px(z10) + {offset:.1f}, rms residual {np.sqrt(mse):.2f} ADU')

# Noise: squared residual of z00 against its 3-px smoothing, by mean intensity; a 3-px Gaussian keeps
# 1 − 1/(4π·3²) of white noise's variance in the residual.
smooth = gaussian_filter(blurred[:, :half], 3)
mean, var = smooth.ravel(), ((blurred[:, :half] - smooth) ** 2).ravel()
edges = np.quantile(mean, np.linspace(0, 1, 21))
bins = [k for k in ((mean >= lo) & (mean < hi) for lo, hi in zip(edges[:-1], edges[1:])) if k.sum() > 100]
centres = [mean[k].mean() for k in bins]
variances = [var[k].mean() for k in bins]
gain, floor = np.polyfit(centres, variances, 1) / (1 - 1 / (4 * np.pi * 9))
print(f'noise: variance = {gain:.3f}·mean + {floor:.1f} ADU²')

rng = np.random.default_rng(0)
for role in ('blurred', 'clear'):
    os.makedirs(f'{out}/train/{role}', exist_ok=True)
for path in sorted(glob.glob(f'{sample}/z10_aligned/*_w1_10.tif')):
    well = path.split('__')[1]
    if well == 'a01':
        continue  # the matched pair's field is the test set
    field = np.array(Image.open(path)).astype(np.float64)
    for d in range(draws):
        expected = scale * gaussian_filter(field, sigma * rng.uniform(0.85, 1.15), mode='reflect') + offset
        noisy = expected + rng.normal(size=field.shape) * np.sqrt(np.maximum(gain * expected + floor, 1e-3))
        tifffile.imwrite(f'{out}/train/blurred/{well}_{d}.tif', np.clip(np.round(noisy), 0, 65535).astype(np.uint16))
        tifffile.imwrite(f'{out}/train/clear/{well}_{d}.tif', field.astype(np.uint16))
print(f'wrote {len(os.listdir(f"{out}/train/blurred"))} pairs to {out}/train')
