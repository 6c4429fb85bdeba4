"""Administration pages: model versions and their evaluation, and the audit log."""

from app.admin.routes import bp

__all__ = ["bp"]
