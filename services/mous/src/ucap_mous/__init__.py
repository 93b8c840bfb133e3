"""ucap mous service: memoranda of understanding"""
