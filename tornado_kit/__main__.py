"""`python -m tornado_kit` runs the same CLI as `tkit`."""

from tornado_kit.cli import main

main(prog_name="tkit")
