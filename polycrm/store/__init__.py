"""Storage: engines, sessions and migrations."""
