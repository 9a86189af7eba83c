"""`codegen-server`: the daemon, over stdio (default) or TCP."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import __version__
from ..logs import configure_logging


def parse_address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)  # [::1]:2087 names an IPv6 host as URLs do


def _megabytes(value: str) -> float:
    try:
        megabytes = float(value)
    except ValueError:
        megabytes = 0
    if not 0 < megabytes < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of megabytes, got {value!r}")
    return megabytes


def _epilog() -> str:
    from ..model.settings import ENV_VARIABLES

    width = max(map(len, ENV_VARIABLES))
    variables = "".join(f"  {name:<{width}}  {meaning}\n" for name, meaning in ENV_VARIABLES.items())
    return (f"environment (initializationOptions and workspace/didChangeConfiguration override it):\n"
            f"{variables}\n"
            "over TCP: each start writes a new token, readable by this user only, to\n"
            "  $XDG_STATE_HOME/codegen/tcp-PORT.token (by default ~/.local/state/codegen/tcp-PORT.token)\n"
            "  (removed when the daemon ends; the path is also printed on stderr). The client's first message\n"
            '  must be `initialize` with initializationOptions {"token": "<its contents>"}; a connection\n'
            "  without it gets an error and is closed, one that does not start as LSP (an HTTP request) is\n"
            "  closed unanswered. Every command's `root` must then be a folder the client opened.\n\n"
            "exit status: 0 after shutdown and exit, 1 on exit without shutdown or when no LSP message arrived,\n"
            "  2 on bad options (a non-loopback --tcp HOST without --allow-remote)\n\n"
            "examples:\n  codegen-server\n  codegen-server --tcp 127.0.0.1:2087 --log-file /tmp/codegen.log\n")


def _announce(host: str, port: int, token_file: Path) -> None:
    print(f"codegen-server: listening on {host}:{port}; the client's token is in {token_file}",
          file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="codegen-server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_epilog())
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--stdio", action="store_true", help="speak LSP over stdin/stdout (the default)")
    mode.add_argument("--tcp", metavar="HOST:PORT", type=parse_address,
                      help="listen for one client on HOST:PORT (HOST defaults to 127.0.0.1; only a loopback "
                           "HOST unless --allow-remote; PORT 0 picks a free one); the client must send the token "
                           "(see below)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="let --tcp listen on a HOST other machines can reach. Risky: the token is then all "
                             "that stands between the network and a program that writes files and runs your "
                             "tests, and it travels unencrypted (default: loopback only)")
    parser.add_argument("--log-file", help="write the daemon's log here (default: stderr)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="what the log shows; secrets are redacted at every level (default: WARNING)")
    parser.add_argument("--max-message-mb", type=_megabytes, metavar="MB",
                        help="a message from the client larger than this is skipped unread and answered with an "
                             "error (default: $CODEGEN_MAX_MESSAGE_MB, else 64)")
    parser.add_argument("--version", action="version", version=f"codegen-server {__version__}")
    args = parser.parse_args(argv)
    if args.tcp and not args.allow_remote:
        from .tcp import is_loopback

        if not is_loopback(args.tcp[0]):
            parser.error(f"--tcp {args.tcp[0]}:{args.tcp[1]} is not a loopback address: other machines could "
                         "connect to it. Use 127.0.0.1, or add --allow-remote if you mean it.")

    configure_logging(args.log_level, args.log_file)
    from .framing import max_message_bytes

    max_message = max_message_bytes(args.max_message_mb)
    early = None
    if not args.tcp:
        from .early_initialize import answer_initialize

        early = answer_initialize(sys.stdin.fileno(), sys.stdout.fileno(), max_message)
    from .wiring import create_server

    server = create_server()
    server.max_message = max_message
    if args.tcp:
        host, port = args.tcp
        try:
            summary = server.start_tcp(host, port, on_listening=_announce)
        except OSError as error:  # the port is taken, the state folder is not writable
            print(f"codegen-server: cannot listen on {host}:{port}: {error.strerror or error}", file=sys.stderr)
            return 1
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
