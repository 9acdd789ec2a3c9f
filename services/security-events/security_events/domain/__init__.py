"""Pure rules: event URIs, SET claims, signing and key encryption."""
