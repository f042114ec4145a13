"""The shipped context-prediction encoder (GIN 3 x 128, pretrained on all 1,584,663 MOSES training molecules
for 4 epochs; datasets/checkpoints/gtransfer/PROVENANCE.md) fine-tunes above random initialisations of the
same architecture on Tox21 within a 5-epoch budget, by the margin stated here (docs/results.md has the runs
behind it).

It goes through the design behind ``experiments/finetune_against_random.py``
(:mod:`gtransfer.studies.designs.finetune_against_random`): seed s is one pack of the checkpoint and
``random:gin:layers=3,dim=128,seed=s``, with the same head seed and data order, so each seed is a paired
difference of scaffold-test ROC-AUC.

* Tox21, a 5-epoch budget (seeds 0-2, 1 thread): the mean paired gain is at least 0.035 (measured 0.048 on
  2026-12-03 and again on 2026-12-07 on another CPU). Random-weight stand-ins for the checkpoint gain
  0.009-0.024 over the same random twins under this protocol (four initialisations), so 0.035 is a margin over
  what random weights reach by luck.
* BBBP, the full protocol (seeds 0-9, at most 50 epochs, patience 10), is not asserted: its declared criterion
  (gain >= 0.01 and > 2 standard errors) was met on the machine of 2026-12-03 (+0.018 +- 0.006, 9 of 10 seeds)
  and missed on two others on 2026-12-07 (CI: +0.012; an Intel Xeon: +0.017 +- 0.011, 7 of 10). Float32
  training on another CPU takes other early-stopping paths, and at this protocol the seed-to-seed spread is
  as large as the gain: the result does not reproduce across machines, so a test of it would only be flaky.
  docs/results.md reports all three runs.
"""

from __future__ import annotations

import pytest
import torch

from gtransfer.data.roots import EMBEDDED_DIR
from gtransfer.studies.designs.finetune_against_random import paired_gain, run_seed

pytestmark = [pytest.mark.slow, pytest.mark.experiment]

CHECKPOINT = EMBEDDED_DIR / "checkpoints" / "gtransfer" / "gin3x128_contextpred_moses.pt"


@pytest.fixture
def threads():
    """Set torch's thread count for one test (the runs behind the margins used these counts)."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def _gain(dataset: str, data_root, seeds, epochs: int, patience: int, margin: float) -> dict:
    rows = [run_seed(str(CHECKPOINT), dataset, seed, epochs=epochs, patience=patience, batch_size=32, lr=1e-3,
                     data_root=data_root, device="cpu") for seed in seeds]
    assert not [r["error"] for r in rows if "error" in r]
    return paired_gain([r["pretrained"] for r in rows], [r["random"] for r in rows], margin=margin)


@pytest.mark.shared_data
def test_contextpred_fine_tunes_above_random_weights_on_tox21_in_five_epochs(shared_data, threads):
    threads(1)
    gain = _gain("ogbg-moltox21", shared_data, range(3), epochs=5, patience=5, margin=0.035)
    assert gain["gain_mean"] >= 0.035, gain
