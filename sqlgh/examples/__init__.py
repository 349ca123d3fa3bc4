"""Runnable examples against the embedded emulator."""
