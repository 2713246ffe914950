"""The `wendu` command line, a layer above the engine's core (which never imports it).

`main` holds the `wendu` app and its top-level commands; each command group has its own
module (`rules`, `models`, `score`, `users`, `tokens`, `demo`, ...), and what they share
(`UserError`, settings, the API client) lives in `common` and `api`, which import no
command. This file imports nothing, so the demo can use those helpers without a circle.
"""
