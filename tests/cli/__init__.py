"""The requests and tasks commands through the real entry point."""
