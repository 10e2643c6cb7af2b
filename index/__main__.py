"""Entry point of ``python -m index``."""

from index.tools.cli import main

raise SystemExit(main())
