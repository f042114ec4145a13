"""NCE and LEEP as the papers define them on graphs: source models with heads, ranked per target.

Builds the graph source zoo (small GNNs trained on multi-class TU tasks and on MoleculeNet tasks, each kept
with its head) and runs two source-selection studies whose candidates are zoo members, each twice: NCE/LEEP
from the source heads and from the k-means stand-in. The design: :mod:`gtransfer.studies.designs.graph_source_zoo`.

    python experiments/graph_source_zoo.py --preset small   # 2 CPU cores, about 15 minutes (zoo included)
"""

from __future__ import annotations

from gtransfer.cli.experiments import experiment_parser
from gtransfer.studies.designs.graph_source_zoo import run_graph_source_zoo

if __name__ == "__main__":
    run_graph_source_zoo(experiment_parser(__doc__.splitlines()[0]).parse_args())
