"""vertical: build domain vertical models by choosing the adaptation strategy by measurement."""

__version__ = "0.1.0"
