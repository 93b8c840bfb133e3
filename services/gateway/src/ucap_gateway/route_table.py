"""The public operations of each service: what the gateway forwards, and nothing else.

Checked in rather than read from the services' OpenAPI documents, which a
service in production does not serve: the gateway refuses an unknown path
(404) or method (405 with ``Allow``) from the moment it starts.
``tests/services/gateway/test_route_table.py`` holds this table equal to the
services' own routes.
"""

from collections.abc import Mapping

PUBLIC_OPERATIONS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "cities": {
        "/cities": ("GET", "POST"),
        "/cities/{city_id}": ("GET", "PATCH"),
        "/cities/{city_id}/stakeholders": ("POST",),
        "/cities/{city_id}/stakeholders/{stakeholder_id}": ("DELETE",),
        "/cities/{city_id}/clusters": ("POST",),
        "/cities/{city_id}/clusters/{cluster}": ("DELETE",),
        "/cities/{city_id}/history": ("GET",),
        "/organisations": ("GET", "POST"),
        "/organisations/{organisation_id}": ("GET",),
    },
    "mous": {
        "/mous": ("GET", "POST"),
        "/mous/expiry-check": ("POST",),
        "/mous/{mou_id}": ("GET",),
        "/mous/{mou_id}/parties": ("POST",),
        "/mous/{mou_id}/signatures": ("POST",),
        "/mous/{mou_id}/amendments": ("POST",),
        "/mous/{mou_id}/termination": ("POST",),
        "/mous/{mou_id}/history": ("GET",),
    },
    "pilots": {
        "/pilots": ("GET", "POST"),
        "/pilots/{pilot_id}": ("GET", "PATCH"),
        "/pilots/{pilot_id}/approve": ("POST",),
        "/pilots/{pilot_id}/start": ("POST",),
        "/pilots/{pilot_id}/hold": ("POST",),
        "/pilots/{pilot_id}/resume": ("POST",),
        "/pilots/{pilot_id}/complete": ("POST",),
        "/pilots/{pilot_id}/cancel": ("POST",),
        "/pilots/{pilot_id}/milestones": ("POST",),
        "/pilots/{pilot_id}/milestones/{milestone_id}/complete": ("POST",),
        "/pilots/{pilot_id}/funding": ("POST",),
        "/pilots/{pilot_id}/indicators": ("POST",),
        "/pilots/{pilot_id}/progress": ("POST",),
        "/pilots/{pilot_id}/history": ("GET",),
    },
    "reporting": {
        "/ucaps": ("GET", "POST"),
        "/ucaps/{ucap_id}": ("GET", "PATCH"),
        "/ucaps/{ucap_id}/activities": ("POST",),
        "/ucaps/{ucap_id}/activities/{activity_id}": ("DELETE", "PATCH"),
        "/ucaps/{ucap_id}/deliver": ("POST",),
        "/ucaps/{ucap_id}/history": ("GET",),
        "/webhooks": ("GET", "POST"),
        "/webhooks/{subscription_id}": ("DELETE",),
    },
}
"""Service -> path template -> the methods it serves there."""

GATEWAY_OPERATIONS: Mapping[str, tuple[str, ...]] = {
    "/programme/status": ("GET",),
    "/programme/live": ("GET",),
    "/programme/iati-activities.xml": ("GET",),
}
"""Operations the gateway answers itself outside the forwarded prefixes, compiled from
the services; ``tests/services/gateway/test_route_table.py`` holds each to the gateway's
own routes."""
