"""Request handlers, one module per area; urls.py maps them to paths."""
