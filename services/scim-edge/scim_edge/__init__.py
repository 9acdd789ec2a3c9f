"""scim-edge: the stateless SCIM 2.0 HTTP API (RFC 7643/7644) in front of the directory's gRPC API."""
