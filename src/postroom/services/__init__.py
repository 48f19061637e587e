"""Postroom package."""
