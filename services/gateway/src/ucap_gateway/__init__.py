"""ucap gateway service: public entry and live U-CAP status"""
