"""Drive codegen-server headless over stdio: generate a project into ROOT from PROMPT.

    .venv/bin/python examples/headless.py ROOT "a calculator library with tests"

Any Python that has codegen installed runs it (the one of codegen's venv above). The model comes
from the environment (OPENAI_API_KEY, OPENAI_BASE_URL, CODEGEN_MODEL).
A client without the workspace.applyEdit capability gets the files written to disk.
"""

import asyncio
import sys
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient


async def main(root: Path, prompt: str) -> int:
    client = LanguageClient("headless-example", "1.0")
    await client.start_io(sys.executable, "-m", "codegen_server.server")
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=root.resolve().as_uri()))
    client.initialized(types.InitializedParams())
    try:
        result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="codegen.generateProject", arguments=[{"prompt": prompt}]))
        for file in result["files"]:
            print(f"{file['action']:>7}  {file['path']}")
        return 0 if result["applied"] else 1
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python examples/headless.py ROOT PROMPT  (a Python that has codegen installed)")
    if not Path(sys.argv[1]).is_dir():
        sys.exit(f"headless.py: {sys.argv[1]} is not a folder; create it first (mkdir -p {sys.argv[1]})")
    sys.exit(asyncio.run(main(Path(sys.argv[1]), sys.argv[2])))
