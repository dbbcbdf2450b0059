"""Shared pytest configuration.

The environment itself is prepared by `console/testing/pytest_plugin.py`.
"""
