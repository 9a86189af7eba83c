"""codegen: a language-server daemon that writes, reviews and repairs code with an LLM."""

__version__ = "0.1.0"
