"""Grade deep-learning notebooks: extract → worker (untrusted) → checks → scoring → report."""

__version__ = "0.1.0"
