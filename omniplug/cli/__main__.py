"""``python -m omniplug.cli``."""

from omniplug.cli import main

main()
