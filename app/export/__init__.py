"""The researchers' export: de-identified CSV of reports."""

from app.export.routes import bp

__all__ = ["bp"]
