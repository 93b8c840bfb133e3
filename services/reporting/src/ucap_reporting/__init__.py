"""ucap reporting service: U-CAPs and consolidated status views"""
