"""Loading a U-CAP data file through the gateway, section by section, idempotently."""
