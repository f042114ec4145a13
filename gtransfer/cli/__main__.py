"""``python -m gtransfer.cli``: the ``gtransfer`` command without the console script."""

import sys

from gtransfer.cli.app import main

sys.exit(main())
