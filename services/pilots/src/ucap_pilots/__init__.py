"""ucap pilots service: pilot projects and their progress"""
