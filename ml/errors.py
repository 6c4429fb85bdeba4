"""Errors of the ml package, in a module of their own so that catching one is cheap.

Importing this module does not import scikit-learn.
"""


class ModelError(Exception):
    """A model artifact cannot be loaded or used."""
