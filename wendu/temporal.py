"""The one way every process (API, worker, CLI) connects to Temporal, and how hard it calls."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

DEFAULT_ADDRESS = "127.0.0.1:7233"
RPC_TIMEOUT = timedelta(seconds=5)  # one start or signal request
CONCURRENCY = 32  # parallel start requests: well above what one dev server accepts per second


async def connect(address: str, namespace: str) -> Client:
    """A client that carries the io/plan pydantic models as JSON."""
    return await Client.connect(
        address or DEFAULT_ADDRESS, namespace=namespace, data_converter=pydantic_data_converter
    )
