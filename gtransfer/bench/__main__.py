"""``python -m gtransfer.bench``: the benchmarks' command (its parser is :mod:`gtransfer.cli.bench`)."""

import sys

from gtransfer.cli.bench import main

sys.exit(main())
