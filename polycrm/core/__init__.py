"""The rules: entities, services, tenancy, auth and the change feed."""
