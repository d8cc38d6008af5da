#!/usr/bin/env python3
"""Writes the PyTorch oracle fixtures under test/fixtures/. Run with Debian's python3-torch:
    /usr/bin/python3 scripts/make-fixtures.py [group ...]
Each module in scripts/fixtures/ that defines generate() is a group (others, such as common and cyclegan_nets, are
shared code); naming groups runs only those."""
import importlib
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures'))
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
# Read, not imported: listing the groups should not import every oracle's dependencies.
groups = sorted(f[:-3] for f in os.listdir(here)
                if f.endswith('.py') and 'def generate(' in open(os.path.join(here, f), encoding='utf8').read())
wanted = sys.argv[1:] or groups
for name in wanted:
    if name not in groups:
        sys.exit(f'make-fixtures: unknown group {name!r}; known: {", ".join(groups)}')
    importlib.import_module(name).generate()
    print(f'fixtures: {name}')
