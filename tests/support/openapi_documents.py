"""The OpenAPI documents of the services and the gateway, built once per test process.

Building an app and its document takes a few hundred milliseconds; the contract tests read
the same five documents many times. The documents are shared: a test must not change one.
"""

import functools
import importlib
from typing import Any

from ucap_gateway.openapi import merged_openapi

SERVICES = ("cities", "mous", "pilots", "reporting")
"""The services the gateway forwards to, in the order their documents are merged."""


@functools.cache
def document_of(name: str) -> dict[str, Any]:
    """The document a service (or the gateway, for its own operations) serves."""
    document: dict[str, Any] = importlib.import_module(f"ucap_{name}.main").create_app().openapi()
    return document


@functools.cache
def merged_public_document() -> dict[str, Any]:
    """The gateway's public document: its own operations and every service's, merged."""
    gateway = importlib.import_module("ucap_gateway.main").create_app()
    return merged_openapi(gateway, {service: document_of(service) for service in SERVICES})
