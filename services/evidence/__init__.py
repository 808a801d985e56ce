"""Evidence: session bundles with a standalone verifier, and an independent C2SP witness."""
