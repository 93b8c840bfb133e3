"""Organisations that belong to no one city: national or international bodies."""
