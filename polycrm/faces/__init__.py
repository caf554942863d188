"""The vendor APIs: each face only parses, routes, maps fields and formats errors."""
