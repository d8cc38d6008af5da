"""COMI's corrector in PyTorch: the ResnetGenerator of pytorch-CycleGAN-and-pix2pix with the COMI code's variants
(nearest x2 + conv upsampling, global residual), its optional Richardson-Lucy input stage (train --rl-input) and
its optional binning (train --bin). Parameter names equal those of comi-webgpu's generator.safetensors
and of the pytorch_state_dict weights in its bioimage.io packages, so `load_state_dict` needs no mapping.

Input and output: [batch, channels, height, width] in [-1, 1]; height and width multiples of 4 (of 4 * bin)."""
import math

import torch
import torch.nn.functional as F
from torch import nn


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class ResizeConv(nn.Module):
    """Nearest x2, reflection pad 1, conv 3x3; weight and bias held directly so the names match ConvTranspose2d's slot."""

    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(cout, cin, 3, 3))
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x):
        x = F.pad(F.interpolate(x, scale_factor=2, mode='nearest'), (1, 1, 1, 1), mode='reflect')
        return F.conv2d(x, self.weight, self.bias)


class RichardsonLucyStage(nn.Module):
    """comi-webgpu's deconvolveNormalized: [-1, 1] to unit counts (negatives to 0), reflect-padded by the PSF's size,
    `iterations` Richardson-Lucy updates from 0.5 with zero-padded 'same' convolutions by a Gaussian PSF (sigma px,
    truncated at 3 sigma, sum 1), cropped, back to [-1, 1]. The PSF's taps are buffers outside the state dict."""

    def __init__(self, channels, sigma, iterations):
        super().__init__()
        r = math.ceil(3 * sigma)
        t = torch.arange(-r, r + 1, dtype=torch.float64)
        g = torch.exp(-t ** 2 / (2 * sigma * sigma))
        taps = (g / g.sum()).float()
        # The Gaussian is separable: each blur is a pass along the rows, then one along the columns.
        self.register_buffer('rows', taps.expand(channels, 1, 1, 2 * r + 1).clone(), persistent=False)
        self.register_buffer('columns', taps.view(-1, 1).expand(channels, 1, 2 * r + 1, 1).clone(), persistent=False)
        self.iterations = iterations

    def forward(self, x):
        k = self.rows.shape[-1]
        rows, columns = self.rows.to(x.dtype), self.columns.to(x.dtype)
        c = rows.shape[0]
        blur = lambda t: F.conv2d(F.conv2d(t, rows, padding=(0, k // 2), groups=c), columns, padding=(k // 2, 0), groups=c)
        observed = F.pad(torch.relu((x + 1) / 2), (k, k, k, k), mode='reflect')
        u = torch.full_like(observed, 0.5)
        for _ in range(self.iterations):
            u = u * blur(observed / (blur(u) + 1e-12))
        return 2 * u[..., k:-k, k:-k] - 1


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc=1, output_nc=1, ngf=64, n_blocks=9, upsampling='transpose', global_residual=False,
                 rl_sigma=None, rl_iterations=0, bin=1):
        super().__init__()
        self.bin = bin
        self.rl_input = RichardsonLucyStage(input_nc, rl_sigma, rl_iterations) if rl_sigma else None
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
        for i in range(2):
            c = ngf * 2 ** i
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), nn.InstanceNorm2d(2 * c), nn.ReLU(True)]
        layers += [ResnetBlock(4 * ngf) for _ in range(n_blocks)]
        for i in range(2):
            c = ngf * 2 ** (2 - i)
            up = (nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1) if upsampling == 'transpose'
                  else ResizeConv(c, c // 2))
            layers += [up, nn.InstanceNorm2d(c // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        self.global_residual = global_residual

    def forward(self, x):
        size = x.shape[-2:]
        if self.bin > 1:  # train --bin: the mean of bin x bin blocks, partial edge blocks averaging what they hold
            x = F.avg_pool2d(x, self.bin, ceil_mode=True, count_include_pad=False)
        if self.rl_input is not None:
            x = self.rl_input(x)
        y = self.model(x)
        y = y + x if self.global_residual else y
        if self.bin > 1:  # bilinear back, each binned value at its block's centre, edges held
            y = F.interpolate(y, scale_factor=self.bin, mode='bilinear', align_corners=False)[..., :size[0], :size[1]]
        return y
