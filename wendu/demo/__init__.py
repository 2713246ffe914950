"""The demo: a small Shanghai company, its scenarios, and local stand-ins for WeCom and SMTP.

A layer above the engine's core (which never imports it): `company` (people, events, the demo
token), `scenarios` (situations played through the API), `history` (months of past events),
`library` (the rule library copied into the data dir), `channels` (the SMTP sink and the
outbox) and `wecom_sandbox` (a local server with WeCom's endpoints and error codes).
"""
