"""Transcripts as heard: turns, heard text, tool calls and full-text search, from the provider
timeline (``consumer.py`` explains the rebuild design; ``projection.py`` the heard-text rules)."""
