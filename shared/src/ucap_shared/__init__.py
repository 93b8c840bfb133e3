"""ucap's common plumbing. No domain types live here."""
