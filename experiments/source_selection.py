"""Source selection on molecules: which pretrained encoder to transfer to a MoleculeNet target?

Candidates: the nine published Hu et al. 2020 encoders, a zoo of GIN encoders pretrained here first (into
``<out>/zoo/``) and untrained encoders; every metric scores each (encoder, target) pair against linear-probe
and fine-tuning truth on the scaffold test split. The design (encoders, targets, sizes, truth per preset):
:mod:`gtransfer.studies.designs.source_selection`.

The medium preset is sized to decide the paper's claims on the CPU: 21 encoders on 44 binary targets, scores
from n = 50..all training molecules. On 2026-12-02 it took 57 minutes on a 2-core AMD EPYC CPU without a GPU
(zoo 10, embeddings and the n = 50 study 15, the other sizes 11, fine-tuning 19, ESOL and timing 2;
docs/results.md, "The paper's claims on graphs").

    python experiments/source_selection.py --preset small   # 2 CPU cores, about 15-20 minutes
    python experiments/source_selection.py --preset medium  # 2 CPU cores, about an hour (57 minutes)
    python experiments/source_selection.py --preset full    # GPU; the paper's scale
"""

from __future__ import annotations

from gtransfer.cli.experiments import experiment_parser
from gtransfer.studies.designs.source_selection import PRESETS, run_source_selection

if __name__ == "__main__":
    run_source_selection(experiment_parser(__doc__.splitlines()[0], presets=PRESETS).parse_args())
