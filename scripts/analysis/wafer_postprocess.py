"""Can post-processing lift a binned corrector on the full-resolution wafer series? (docs/results.md, issue 15)

Scores, in the normalized convention of scripts/analysis/wafer_ceiling.py, of `comi correct --dtype float32` outputs
of `--bin N` runs on the held-out pairs that `node dist/bench/wafer_data.js --bin 1 --out DIR` lays out:
  output              the corrector's output (upsampled from the N×N-binned grid, as correct does)
  + α·detail          plus α times what binning removes from the input, x − up(bin(x)) (the fine detail the
                      binned corrector never sees)
  blur σ / RL σ       a Gaussian blur of the output, or 3 Richardson-Lucy iterations on it with a Gaussian PSF
  mean of runs        the mean of the outputs of all the runs given (a seed ensemble)
usage: /usr/bin/python3 scripts/analysis/wafer_postprocess.py DIR N PRED_DIR [PRED_DIR ...]
"""
import glob
import os
import sys

import numpy as np
import tifffile
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter
from skimage.io import imread
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from skimage.restoration import richardson_lucy

from wafer_ceiling import percentile_normalized, min_mse


def binned_low_pass(x, n):
    """up(bin(x)) as `--bin n` computes it: n×n means (partial blocks average what they hold), linear half-pixel."""
    t = torch.from_numpy(x)[None, None]
    b = F.avg_pool2d(t, n, ceil_mode=True, count_include_pad=False)
    return F.interpolate(b, scale_factor=n, mode='bilinear', align_corners=False)[0, 0, :x.shape[0], :x.shape[1]].numpy()


def gaussian_psf(sigma):
    r = int(3 * sigma + 0.5)
    g = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma * sigma))
    k = np.outer(g, g)
    return k / k.sum()


def main(root, n, pred_dirs):
    rows = {}
    for f in sorted(glob.glob(f'{root}/test/blurred/*.png')):
        x = imread(f).astype(float)
        truth = percentile_normalized(imread(f.replace('blurred', 'clear')).astype(float))
        name = os.path.splitext(os.path.basename(f))[0]
        preds = [tifffile.imread(glob.glob(f'{d}/{name}.*')[0]).astype(float) for d in pred_dirs]
        p = preds[0]
        detail = x - binned_low_pass(x, n)
        variants = {'output': p, **{f'+ {a}·detail': p + a * detail for a in (0.25, 0.5, 1.0)},
                    **{f'blur σ {s}': gaussian_filter(p, s) for s in (1, 2)},
                    **{f'RL σ {s}': richardson_lucy(p / p.max(), gaussian_psf(s), 3, clip=False) for s in (2, 3)}}
        if len(preds) > 1:
            variants.update({f'run {i}': q for i, q in enumerate(preds)})
            variants['mean of runs'] = sum(preds) / len(preds)
        for k, v in variants.items():
            m = min_mse(v, truth)
            rows.setdefault(k, []).append((peak_signal_noise_ratio(truth, m, data_range=1),
                                           structural_similarity(truth, m, data_range=1), np.corrcoef(v.ravel(), truth.ravel())[0, 1]))
    print(f'{len(rows["output"])} held-out pairs; PSNR / SSIM / PCC (the first run for the single-output rows)')
    for k, v in rows.items():
        psnr, ssim, pcc = np.mean(v, 0)
        print(f'{k:16s} {psnr:6.2f} {ssim:.4f} {pcc:.3f}')


if __name__ == '__main__':
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
