"""The classifier's categories (see shared/labeling-guide.md); none of them means other."""

CATEGORIES = ("safety", "training", "functionality")
