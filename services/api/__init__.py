"""The HTTP API: tokens per tenant and role, tenant isolation, a sealed access log (issue 17)."""
