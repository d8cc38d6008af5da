#!/usr/bin/env python3
"""Checks a package written by `comi export --format bioimageio` with PyTorch, independently of comi-webgpu: loads
weights.pt with torch.load into comi_generator.py's ResnetGenerator (kwargs from rdf.yaml), applies the declared
preprocessing to test_input.npy, runs the network in float64 and compares with test_output.npy.
    /usr/bin/python3 scripts/check-bioimageio.py PACKAGE.bioimageio.zip
Prints max |difference| (float64 reference vs the package's float32 test output) and exits 1 above 1e-4 on the
network's [-1, 1] scale."""
import importlib.util
import sys
import tempfile
import zipfile

import numpy as np
import torch
import yaml

z = zipfile.ZipFile(sys.argv[1])
tmp = tempfile.mkdtemp()
z.extractall(tmp)
rdf = yaml.safe_load(open(f'{tmp}/rdf.yaml'))
w = rdf['weights']['pytorch_state_dict']
spec = importlib.util.spec_from_file_location('arch', f"{tmp}/{w['architecture']['source']}")
arch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(arch)
net = getattr(arch, w['architecture']['callable'])(**w['architecture']['kwargs']).double().eval()
net.load_state_dict(torch.load(f"{tmp}/{w['source']}"))

x = np.load(f'{tmp}/test_input.npy').astype(np.float64)
for s in rdf['inputs'][0]['preprocessing']:
    k = s.get('kwargs', {})
    if s['id'] == 'scale_range':
        lo, hi = np.percentile(x, [k['min_percentile'], k['max_percentile']])
        x = (x - lo) / (hi - lo + 1e-6)
    elif s['id'] == 'scale_linear':
        x = x * k['gain'] + k['offset']
with torch.no_grad():
    y = net(torch.from_numpy(x)).numpy()
post = rdf['outputs'][0]['postprocessing'][0]['kwargs']
expected = (np.load(f'{tmp}/test_output.npy').astype(np.float64) - post['offset']) / post['gain']
d = float(np.abs(y - expected).max())
print(f'{sys.argv[1]}: PyTorch (float64) vs test_output.npy, max |Δ| on [-1, 1] = {d:.2e}')
sys.exit(0 if d <= 1e-4 else 1)
