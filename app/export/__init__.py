"""The researchers' export: de-identified reports, codebook and aggregate counts (web and CLI)."""

from app.export.routes import bp

__all__ = ["bp"]
