"""Right to erasure: requests, the cascade through every capability's forgetter, residue scan,
signed certificates, whole-tenant erasure (issue 14)."""
