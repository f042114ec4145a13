"""The device bundle of a truth preset (:mod:`gtransfer.studies.designs.device_bundle`): the raw files and processed
caches a GPU machine without RDKit and OGB needs to run ``experiments/truths.py --preset full``, packed into the
ignored ``.devbundle/`` with the ``run.sh`` that runs it there, sized against the device tool's 64 MiB.

    python experiments/device_bundle.py build --check     # here: build, load it with RDKit and OGB blocked, size it
    python experiments/device_bundle.py size              # the bundle and the working tree against 64 MiB
    bash .devbundle/run.sh 570                             # on the device, from the repository root
"""

from __future__ import annotations

import sys

from gtransfer.cli.experiments import device_bundle_parser
from gtransfer.studies.designs.device_bundle import run_device_bundle

if __name__ == "__main__":
    sys.exit(run_device_bundle(device_bundle_parser().parse_args()))
