"""`python -m dpaguard` runs the command line."""

import sys

from dpaguard.cli import main

sys.exit(main())
