"""``python -m autocurriculum``: the command-line interface."""

from autocurriculum.cli import main

raise SystemExit(main())
