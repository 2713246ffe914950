"""Message templates (Jinja2 files only)."""
