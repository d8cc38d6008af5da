"""How far can a linear filter take the wafer focus series? (docs/results.md, issue 15)

Scores, in the normalized convention (truth 0.1/99.9-percentile normalised, prediction mapped onto it by least
squares, PSNR with data range 1), of the held-out pairs that `node dist/bench/wafer_data.js --out DIR` lays out:
  input           the uncorrected images
  gauss σ         a Gaussian blur of the input (smoothing, no sharpening)
  learned k×k     one k×k linear filter fitted by least squares on the training pairs, applied to the test inputs
  oracle k×k      a k×k filter fitted on each test pair itself (an upper bound for any linear deconvolution)
usage: /usr/bin/python3 scripts/analysis/wafer_ceiling.py DIR
"""
import glob
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import gaussian_filter
from skimage.io import imread
from skimage.metrics import peak_signal_noise_ratio


def percentile_normalized(x):
    lo, hi = np.percentile(x, [0.1, 99.9])
    return (x - lo) / (hi - lo)


def min_mse(pred, truth):
    a = np.stack([pred.ravel(), np.ones(pred.size)], 1)
    return (a @ np.linalg.lstsq(a, truth.ravel(), rcond=None)[0]).reshape(truth.shape)


def windows(img, k):
    r = k // 2
    x = sliding_window_view(np.pad(img, r, mode='reflect'), (k, k)).reshape(-1, k * k)
    return np.concatenate([x, np.ones((x.shape[0], 1))], 1)


def pairs(root):
    for f in sorted(glob.glob(f'{root}/blurred/*.png')):
        yield percentile_normalized(imread(f).astype(float)), percentile_normalized(imread(f.replace('blurred', 'clear')).astype(float))


def main(root):
    score = lambda pred, truth: peak_signal_noise_ratio(truth, min_mse(pred, truth), data_range=1)
    learned = {}
    for k in (7, 15):
        # Normal equations summed over the training pairs: one filter for all of them.
        ata, atb = 0, 0
        for b, t in pairs(f'{root}/train'):
            x = windows(b, k)
            ata, atb = ata + x.T @ x, atb + x.T @ t.ravel()
        learned[k] = np.linalg.solve(ata, atb)
    rows = {}
    for b, t in pairs(f'{root}/test'):
        out = {'input': score(b, t), 'gauss σ 1': score(gaussian_filter(b, 1), t), 'gauss σ 2': score(gaussian_filter(b, 2), t)}
        for k in (7, 15):
            x = windows(b, k)
            out[f'learned {k}×{k}'] = score((x @ learned[k]).reshape(t.shape), t)
            out[f'oracle {k}×{k}'] = score((x @ np.linalg.lstsq(x, t.ravel(), rcond=None)[0]).reshape(t.shape), t)
        for name, v in out.items():
            rows.setdefault(name, []).append(v)
    for name, v in rows.items():
        print(f'{name:14s} {np.mean(v):6.2f} dB  ({len(v)} pairs)')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'wafer')
