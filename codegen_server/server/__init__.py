"""The daemon: LSP over stdio or TCP. Protocol only — the work happens in ``workflows``."""
