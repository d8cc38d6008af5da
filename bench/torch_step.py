"""PyTorch reference for bench/step.ts: the same CycleGAN step (pytorch-CycleGAN-and-pix2pix networks from
scripts/fixtures/cyclegan_nets.py, LSGAN + 0.001·L1 cycle, G update then D update, Adam(1e-4, 0.5, 0.99)),
3 channels, batch 1, ndf = ngf, no content loss; wall time per step with the losses read back.

    python3 bench/torch_step.py [--configs 64:16,128:32,256:64] [--reps 5] [--device cuda|cpu] [--json FILE]
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scripts', 'fixtures'))
from cyclegan_nets import ResnetGenerator, NLayerDiscriminator  # noqa: E402


def init_weights(net):
    for m in net.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            torch.nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
    return net


def measure(size, ngf, reps, device):
    torch.manual_seed(0)
    g_s, g_t = (init_weights(ResnetGenerator(3, 3, ngf, 9)).to(device) for _ in range(2))
    d_t, d_s = (init_weights(NLayerDiscriminator(3, ngf, 3)).to(device) for _ in range(2))
    opt_g = torch.optim.Adam(list(g_s.parameters()) + list(g_t.parameters()), lr=1e-4, betas=(0.5, 0.99))
    opt_d = torch.optim.Adam(list(d_t.parameters()) + list(d_s.parameters()), lr=1e-4, betas=(0.5, 0.99))
    real_s = torch.rand(1, 3, size, size, device=device) * 2 - 1
    real_t = torch.rand(1, 3, size, size, device=device) * 2 - 1
    mse = torch.nn.functional.mse_loss
    l1 = torch.nn.functional.l1_loss

    def step():
        for p in list(d_t.parameters()) + list(d_s.parameters()):
            p.requires_grad_(False)
        fake_t = g_s(real_s)
        rec_s = g_t(fake_t)
        fake_s = g_t(real_t)
        rec_t = g_s(fake_s)
        lt, ls = d_t(fake_t), d_s(fake_s)
        adv = mse(lt, torch.ones_like(lt)) + mse(ls, torch.ones_like(ls))
        total = adv + 0.001 * (l1(rec_s, real_s) + l1(rec_t, real_t))
        opt_g.zero_grad()
        total.backward()
        opt_g.step()
        for p in list(d_t.parameters()) + list(d_s.parameters()):
            p.requires_grad_(True)
        losses = []
        for d, real, fake in ((d_t, real_t, fake_t), (d_s, real_s, fake_s)):
            pr, pf = d(real), d(fake.detach())
            losses.append(0.5 * (mse(pr, torch.ones_like(pr)) + mse(pf, torch.zeros_like(pf))))
        opt_d.zero_grad()
        (losses[0] + losses[1]).backward()
        opt_d.step()
        return total.item() + losses[0].item() + losses[1].item()

    for _ in range(2):
        step()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    return {'size': size, 'ngf': ngf, 'ms': statistics.median(times), 'all': times}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--configs', default='64:16,128:32,256:64')
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--json')
    a = ap.parse_args()
    torch.backends.cudnn.benchmark = True
    rows = []
    for c in a.configs.split(','):
        size, ngf = (int(v) for v in c.split(':'))
        r = measure(size, ngf, a.reps, a.device)
        rows.append(r)
        print(f"  torch {a.device} step {size}²/ngf {ngf}: {r['ms']:.1f} ms")
    name = torch.cuda.get_device_name() if a.device == 'cuda' else 'cpu'
    out = {'torch': torch.__version__, 'device': name, 'cudnn': torch.backends.cudnn.version() if a.device == 'cuda' else None, 'rows': rows}
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(out, f, indent=1)


if __name__ == '__main__':
    main()
