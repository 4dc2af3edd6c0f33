"""``python -m skquant`` runs the command line."""

import sys

from skquant.cli import main

if __name__ == "__main__":
    sys.exit(main())
