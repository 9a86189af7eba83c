"""`codegen-server`: the daemon, over stdio (default) or TCP."""

from __future__ import annotations

import argparse
import logging
import sys

from .. import __version__
from ..logs import configure_logging


def parse_address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host or "127.0.0.1", int(port)


def _epilog() -> str:
    from ..model.settings import ENV_VARIABLES

    width = max(map(len, ENV_VARIABLES))
    variables = "".join(f"  {name:<{width}}  {meaning}\n" for name, meaning in ENV_VARIABLES.items())
    return (f"environment (initializationOptions and workspace/didChangeConfiguration override it):\n"
            f"{variables}\n"
            "exit status: 0 after shutdown and exit, 1 on exit without shutdown or when no LSP message arrived\n\n"
            "examples:\n  codegen-server\n  codegen-server --tcp 127.0.0.1:2087 --log-file /tmp/codegen.log\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="codegen-server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_epilog())
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--stdio", action="store_true", help="speak LSP over stdin/stdout (the default)")
    mode.add_argument("--tcp", metavar="HOST:PORT", type=parse_address,
                      help="listen for one client on HOST:PORT (loopback unless you say otherwise)")
    parser.add_argument("--log-file", help="write the daemon's log here (default: stderr)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="what the log shows; secrets are redacted at every level (default: WARNING)")
    parser.add_argument("--version", action="version", version=f"codegen-server {__version__}")
    args = parser.parse_args(argv)

    configure_logging(args.log_level, args.log_file)
    early = None
    if not args.tcp:
        from .early_initialize import answer_initialize

        early = answer_initialize(sys.stdin.fileno(), sys.stdout.fileno())
    from .app import create_server

    server = create_server()
    if args.tcp:
        host, port = args.tcp
        logging.getLogger(__name__).info("listening on %s:%d", host, port)
        summary = server.start_tcp(host, port)
        source = f"the connection on {host}:{port}"
    else:
        summary = server.start_io(early=early)
        source = "stdin"
    if server.codegen_protocol.exit_code is not None:
        return server.codegen_protocol.exit_code
    if summary.messages == 0:
        print(f"codegen-server: no LSP message arrived on {source}"
              + (f" ({summary.dropped_bytes} bytes that were not LSP messages)" if summary.dropped_bytes else "")
              + ". It speaks LSP (Content-Length framed JSON-RPC): start it from an editor or an LSP client;"
              " `codegen --help` is the command for a terminal.", file=sys.stderr)
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main())
