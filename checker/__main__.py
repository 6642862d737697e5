"""`python -m checker FILE... [--json]` (see checker/cli.py)."""

import sys

from checker.cli import main

sys.exit(main())
