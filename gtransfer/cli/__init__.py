"""The ``gtransfer`` command: every argument parser of the package lives in this folder.

One module per subcommand (``score``, ``rank``, ``finetune``, ``embed``, ``pretrain``, ``sweep`` and
``report``, ``demo``), each with ``add_parser(subparsers)`` and ``run(args)``; :mod:`.app` assembles
them and turns user errors into whole messages with a hint. ``bench`` and ``experiments`` hold
the parsers of ``python -m gtransfer.bench`` and of the ``experiments/`` scripts.
"""

from gtransfer.cli.app import build_parser, main
from gtransfer.cli.common import CommandError

__all__ = ["main", "build_parser", "CommandError"]
