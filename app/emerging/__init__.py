"""Emerging issues: the groups Vaka forms by itself, for coordinators to decide on."""

from app.emerging.routes import bp

__all__ = ["bp"]
