"""Who is calling: bearer API tokens and OIDC tokens, roles, namespace scope, and the guard
against cross-site writes."""
