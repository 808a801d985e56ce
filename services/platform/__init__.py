"""Shared plumbing: settings, Postgres, S3, NATS, keys and the embedded stack launcher.

Nothing here connects at import time; the composition root of each process builds clients from a
``Settings`` instance.
"""
