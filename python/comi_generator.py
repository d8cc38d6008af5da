"""COMI's corrector in PyTorch: the ResnetGenerator of pytorch-CycleGAN-and-pix2pix with the COMI code's variants
(nearest x2 + conv upsampling, global residual). Parameter names equal those of comi-webgpu's generator.safetensors
and of the pytorch_state_dict weights in its bioimage.io packages, so `load_state_dict` needs no mapping.

Input and output: [batch, channels, height, width] in [-1, 1]; height and width multiples of 4."""
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


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc=1, output_nc=1, ngf=64, n_blocks=9, upsampling='transpose', global_residual=False):
        super().__init__()
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
        y = self.model(x)
        return y + x if self.global_residual else y
