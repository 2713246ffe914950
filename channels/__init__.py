"""Delivery channels (in-app inbox today; WeCom, e-mail and webhooks plug in here)."""
