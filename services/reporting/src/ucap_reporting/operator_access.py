"""What the operators' command (`ucap webhooks`) may use of the reporting service: its
webhook deliveries, listed and redelivered in the service's own database."""

from ucap_reporting.webhooks.deliveries import Delivery, DeliveryState, listed, redeliver

__all__ = ["Delivery", "DeliveryState", "listed", "redeliver"]
