"""ucap cities service: cities, stakeholders and clusters"""
