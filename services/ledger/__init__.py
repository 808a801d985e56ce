"""The ledger: the sealer consumer, Merkle log, checkpoints and verification."""
