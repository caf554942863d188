"""polycrm: one CRM database served through three vendor APIs."""
