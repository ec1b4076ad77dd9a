"""Security regressions: each test reproduces a reported escape, on a real emulator."""
