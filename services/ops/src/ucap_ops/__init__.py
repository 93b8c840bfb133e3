"""ucap's command for operators."""
