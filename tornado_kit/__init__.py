"""tornado-kit: scaffold, serve and deploy Tornado web services."""

__version__ = "0.1.0"
