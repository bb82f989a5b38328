"""``python -m scenarios`` is the ``assocsim`` command."""

import sys

from ._cli import main

sys.exit(main())
