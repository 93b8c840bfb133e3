"""Webhooks: partner systems told of changes to the U-CAPs they take part in.

A subscription (``subscriptions``) names an endpoint, the U-CAPs and the kinds of
change wanted. When reporting's consumers apply an event, ``announcing`` writes one
delivery per matching subscription into ``webhook_deliveries`` (the outbox: a unique
``_id`` per subscription, event and kind, so an event applied twice announces once);
a periodic check writes those of milestones newly overdue. The worker (one lease
holder among the replicas) posts each delivery, signed (``signing``), to an address
checked again after DNS resolution (``addresses``), retries with jittered backoff,
and sets it aside as dead after its last try; ``ucap webhooks`` lists and redelivers.
"""
