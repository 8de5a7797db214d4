"""``python -m autocurriculum``: the command-line interface."""

import sys

from autocurriculum.cli import main

sys.exit(main())
