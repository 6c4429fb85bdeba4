"""The coordination group's overview: trends, heat map, known issues and spike alerts."""

from app.overview.routes import bp

__all__ = ["bp"]
