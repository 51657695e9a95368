"""callshrink: inbound calls as inventory, missed calls as shrink in dollars."""

__version__ = "0.1.0"
