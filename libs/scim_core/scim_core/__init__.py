"""The SCIM 2.0 domain (RFC 7643, RFC 7644), free of any transport or storage.

Both scim-edge (validation, projection, error rendering) and the directory (filters to SQL, PATCH
application) import it, so the protocol's rules live in one place.
"""
