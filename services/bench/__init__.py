"""``voxledger bench``: load, baseline, redaction, verify and storage numbers on a private stack.

Everything runs on its own embedded stack (``VOXLEDGER_HOME=.voxledger-bench`` by default), never
on the shared one: its stream must start empty so the numbers measure only the benchmark's load.
Numbers are reported, never asserted.
"""
