"""`python -m fastbpe ...`: the same as the `fastbpe` command."""

import sys

from .cli import main

sys.exit(main())
