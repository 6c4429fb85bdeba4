"""Staff reporting: the report form, its confirmation and the receipt status page."""

from app.reports.routes import bp

__all__ = ["bp"]
