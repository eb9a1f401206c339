"""`tkit generate` and `tkit destroy`: grow a project by pages, resources and WebSockets, and take them out again.

names.py checks a NAME and derives its forms, fields.py parses FIELD:TYPE, urlmap.py edits the URL map,
manifest.py remembers what was generated, generators.py renders the files, run.py plans and applies.
"""
