"""security-events: RFC 9967 SETs from the directory events, by push (RFC 8935) and poll (RFC 8936)."""
