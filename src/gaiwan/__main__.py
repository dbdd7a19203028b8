"""`python -m gaiwan` is the `gaiwan` command line."""

from .cli import main

main(prog_name="gaiwan")
