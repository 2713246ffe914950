"""The rule language: event catalog, loader, expressions, compiler, matcher. Text in, plan out.

Nothing here knows about Temporal, HTTP or the database.
"""
