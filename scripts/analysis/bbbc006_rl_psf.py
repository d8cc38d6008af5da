"""Does a better PSF model help Richardson–Lucy on BBBC006's z00 → z10 pair? (docs/results.md, seventh round)

On the half split that `scripts/analysis/bbbc006_halves.py ../shared/data DIR` writes (left half: 4 training bands,
right half held out), RL (mirror-padded, each image percentile-normalised and clipped at 0 first, as comi deconvolve)
with three PSF families, scored in the normalized convention (truth 0.1/99.9-percentile normalised, prediction mapped
onto it by least squares, PSNR with data range 1):
  gauss        the Gaussian the product fits (σ 19.3 px on these bands)
  measured     the blur kernel estimated from the left half's pair (Wiener, radius R, regularisation λ), clipped at 0
  disc         a defocus disc of radius r blurred by a Gaussian of σ s (scored on the left half only: a fit)
usage: /usr/bin/python3 scripts/analysis/bbbc006_rl_psf.py DIR
"""
import sys

import numpy as np
import tifffile
from numpy.fft import fft2, ifft2, irfft2, rfft2
from scipy.ndimage import gaussian_filter
from skimage.metrics import peak_signal_noise_ratio

from wafer_ceiling import min_mse, percentile_normalized

ITERATIONS = [10, 20, 30, 60, 120, 240]


def score(pred, truth):
    t = percentile_normalized(truth)
    return peak_signal_noise_ratio(t, min_mse(pred, t), data_range=1)


def richardson_lucy(image, psf):
    """RL's estimates at each count of ITERATIONS."""
    pad = psf.shape[0] // 2 + 1
    x = np.pad(np.maximum(percentile_normalized(image), 0), pad, mode='reflect')
    k = np.zeros_like(x)
    k[:psf.shape[0], :psf.shape[1]] = psf
    k = rfft2(np.roll(k, (-(psf.shape[0] // 2), -(psf.shape[1] // 2)), (0, 1)))
    u, out = x.copy(), {}
    for i in range(1, ITERATIONS[-1] + 1):
        blurred = np.maximum(irfft2(rfft2(u) * k, x.shape), 1e-6)
        u = u * irfft2(rfft2(x / blurred) * np.conj(k), x.shape)
        if i in ITERATIONS:
            out[i] = u[pad:-pad, pad:-pad].copy()
    return out


def gaussian(sigma):
    r = int(np.ceil(3 * sigma))
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    k = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    return k / k.sum()


def disc(radius, sigma, supersample=4):
    r = int(np.ceil(radius + 3 * sigma)) + 1
    n = 2 * r + 1
    y, x = np.mgrid[0:n * supersample, 0:n * supersample] / supersample - r
    k = (x * x + y * y <= radius * radius).astype(float).reshape(n, supersample, n, supersample).mean((1, 3))
    k = gaussian_filter(k, sigma)
    return k / k.sum()


def measured(blurred, sharp, radius, lam):
    """b − mean ≈ k ⊛ (s − mean): the Wiener estimate of k on Hann-tapered images, cropped to its radius."""
    w = np.outer(np.hanning(blurred.shape[0]), np.hanning(blurred.shape[1]))
    b, s = fft2((blurred - blurred.mean()) * w), fft2((sharp - sharp.mean()) * w)
    k = np.fft.fftshift(np.real(ifft2(b * np.conj(s) / (np.abs(s) ** 2 + lam * np.mean(np.abs(s) ** 2)))))
    cy, cx = k.shape[0] // 2, k.shape[1] // 2
    k = np.maximum(k[cy - radius:cy + radius + 1, cx - radius:cx + radius + 1], 0)
    return k / k.sum()


def main(root):
    read = lambda part, role, name: tifffile.imread(f'{root}/{part}/{role}/{name}').astype(float)
    left = [np.concatenate([read('train', role, f'band{i}.tif') for i in range(4)], 0) for role in ('blurred', 'clear')]
    right = [read('test', role, 'a01_s1_w1.tif') for role in ('blurred', 'clear')]
    row = lambda name, psf, halves: print(name, ' '.join(
        f'{half}: ' + ' '.join(f'{i} it {score(out, truth):.2f}' for i, out in richardson_lucy(image, psf).items())
        for half, (image, truth) in halves.items()), flush=True)
    both = {'left': left, 'right': right}
    print(f'input  left {score(*left):.2f}  right {score(*right):.2f}')
    row('gauss σ 19.3', gaussian(19.3), both)
    for radius in (40, 60):
        for lam in (0.01, 0.1, 1):
            row(f'measured R {radius} λ {lam}', measured(*left, radius, lam), both)
    for radius in (8, 12, 16, 20, 24):
        for sigma in (2, 5, 10):
            row(f'disc r {radius} σ {sigma}', disc(radius, sigma), {'left': left})


if __name__ == '__main__':
    main(sys.argv[1])
