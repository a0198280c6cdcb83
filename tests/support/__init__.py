"""Helpers and shared data of the tests (no tests here)."""
