"""`tkit deploy-config`: nginx + supervisor files for one Tornado process per CPU.

options.py validates the user's choices once, cpus.py counts usable CPUs, appenv.py reads the
project's `.env`, render.py turns options into text (no I/O), writer.py is the only module that writes.
"""
