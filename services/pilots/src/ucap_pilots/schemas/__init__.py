"""Request and response bodies of the HTTP API, with their limits and examples, by resource.

- ``fields``: the constrained fields requests are made of;
- ``pilots``: proposing, editing, status changes, a pilot as read, its history;
- ``milestones``, ``funding``, ``indicators``, ``progress``: what a pilot holds.
"""
