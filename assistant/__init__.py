"""An offline smart-home voice assistant: speech or text in, rule-checked MQTT actions out."""

__version__ = "0.1.0"
