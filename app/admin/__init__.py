"""Administration pages: model versions and their evaluation."""

from app.admin.routes import bp

__all__ = ["bp"]
