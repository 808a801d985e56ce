"""Retention policies, legal holds and the disposition job (issue 15)."""
