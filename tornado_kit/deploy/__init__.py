"""`tkit deploy-config`: nginx + supervisor files for one Tornado process per CPU.

options.py validates the user's choices once, cpus.py counts usable CPUs, the project's settings come from
tornado_kit/settings.py (the app's own rules), configs.py turns options into template values and text (no
I/O), and run.py plans and writes them with the shared plan/apply pair (tornado_kit/plan.py, writer.py).
"""
