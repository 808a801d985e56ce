"""Evidence: replay of projections from the ledger, session bundles with a standalone verifier,
and an independent C2SP witness."""
