"""The build: inputs -> anchors -> validation -> reasoning -> a new store version (cached, atomic);
updates re-reasoned.
"""
