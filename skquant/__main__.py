"""``python -m skquant`` runs the command line."""

import sys

from skquant.cli import main

sys.exit(main())
