"""The trace format's tools: read and check a trace, draw it as a diagram, replay it."""
