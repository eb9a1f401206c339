"""`tkit check`: Django-style checks with stable ids over an app, its settings and its deploy files.

base.py holds the registry and the finding type; context.py gathers what checks read; the check
functions live in app_checks.py (development), settings_checks.py, nginx_checks.py,
supervisor_checks.py and tools.py (`--deploy`); runner.py runs them and formats the report.
"""
