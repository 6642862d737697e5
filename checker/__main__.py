"""`python -I -m checker FILE... [--json] [--max-ops N]` (see checker/cli.py; -I keeps the current directory out of the import path)."""

import sys

from checker.cli import main

sys.exit(main())
