"""`codegen-mcp [--root DIR]`: serve codegen's workflows as MCP tools over stdio."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codegen-mcp", description="Serve codegen's workflows as Model Context Protocol tools over stdio.",
        epilog="The model is the OpenAI-compatible endpoint of `codegen --help`'s environment variables.")
    parser.add_argument("--version", action="version", version=f"codegen-mcp {__version__}")
    parser.add_argument("--root", type=Path,
                        help="the workspace (default: the host's first root, else the current folder)")
    parser.add_argument("--model", help="model name (default: $CODEGEN_MODEL or gpt-4o)")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL or OpenAI)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    root = args.root.expanduser().resolve() if args.root else None
    if root is not None and not root.is_dir():
        print(f"codegen-mcp: --root {root} is not a folder", file=sys.stderr)
        return 2
    from ..logs import configure_logging, trust_notices_to_stderr
    from .server import build_server
    from .workspace import Workspace

    workspace = Workspace.from_env(root, model=args.model, base_url=args.base_url)
    server = build_server(workspace)
    # After the SDK set up its logging: codegen's handler (stderr, stdout is the protocol) redacts secrets.
    configure_logging("WARNING")
    trust_notices_to_stderr()
    try:
        server.run("stdio")
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
