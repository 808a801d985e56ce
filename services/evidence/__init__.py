"""Evidence: replay of projections from the ledger, session bundles, standalone verification."""
