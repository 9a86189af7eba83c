#!/usr/bin/env bash
# Installs what the VS Code extension's tests need; scripts/test runs it before pytest.
#   1. the extension's node packages (npm ci in clients/vscode), when package-lock.json changed;
#   2. the end-to-end kit: a real VS Code (code-server 4.99.4 = VS Code 1.99.3) and playwright-core,
#      driven through headless Debian Chromium, under $VSCODE_REAL_HOME (default /tmp/vscode_real_home).
# Running it again is fast (a stamp file per step). Works offline from GitHub: only npm and apt are used.
# Why the kit is built by hand: code-server's postinstall runs `npm install` in lib/vscode, whose
# @vscode/ripgrep and kerberos install scripts download from GitHub. So everything is installed with
# --ignore-scripts, the native modules are compiled against the distro's node headers, Debian's rg
# stands in for @vscode/ripgrep's download, and postinstall.sh's symlinks are made here.
set -euo pipefail

EXT_DIR="$(cd "$(dirname "$0")/.." && pwd)"
KIT="${VSCODE_REAL_HOME:-/tmp/vscode_real_home}"
CS_VERSION=4.99.4
PW_VERSION=1.65.1
KIT_STAMP="$KIT/.codegen-e2e-kit-$CS_VERSION-$PW_VERSION"

export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
log() { echo "[vscode/install] $*"; }

# ------------------------------------------------------------------ the extension's packages
lock="$EXT_DIR/package-lock.json"
stamp="$EXT_DIR/node_modules/.codegen-npm-ci"
if [ ! -f "$stamp" ] || [ "$(sha256sum "$lock" | cut -d' ' -f1)" != "$(cat "$stamp")" ]; then
  log "npm ci in $EXT_DIR"
  ( cd "$EXT_DIR" && npm ci --no-audit --no-fund )
  sha256sum "$lock" | cut -d' ' -f1 > "$stamp"
fi

# ------------------------------------------------------------------ the end-to-end kit
if [ -f "$KIT_STAMP" ] && command -v chromium >/dev/null; then
  log "e2e kit already installed in $KIT"
  exit 0
fi

NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
if [ "$NODE_MAJOR" != "20" ]; then
  echo "code-server $CS_VERSION needs node 20; found $(node --version)" >&2
  exit 1
fi

need=()
for p in chromium ripgrep build-essential pkg-config python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  SUDO=()
  [ "$(id -u)" = 0 ] || SUDO=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  [ -n "$(find /var/lib/apt/lists -name '*Packages*' -print -quit 2>/dev/null)" ] || "${SUDO[@]}" apt-get update
  "${SUDO[@]}" apt-get install -y --no-install-recommends "${need[@]}"
fi
command -v chromium >/dev/null || { echo "chromium is missing" >&2; exit 1; }
command -v rg >/dev/null || { echo "rg (Debian ripgrep) is missing" >&2; exit 1; }

# node-gyp compiles against the distro's headers instead of downloading them from nodejs.org;
# prebuild-install / node-pre-gyp build from source instead of trying GitHub.
[ -f /usr/include/node/common.gypi ] && export npm_config_nodedir=/usr
export npm_config_build_from_source=true
export JOBS="${JOBS:-max}"

log "code-server@$CS_VERSION and playwright-core@$PW_VERSION into $KIT"
mkdir -p "$KIT"
cd "$KIT"
[ -f package.json ] || echo '{ "name": "vscode-real-home", "private": true }' > package.json
npm install --ignore-scripts --no-audit --no-fund "code-server@$CS_VERSION" "playwright-core@$PW_VERSION"
# code-server require()s argon2 at start-up, even with --auth none.
npm rebuild argon2

VS="$KIT/node_modules/code-server/lib/vscode"
cd "$VS"
npm install --omit=dev --ignore-scripts --no-audit --no-fund
npm rebuild kerberos @vscode/spdlog native-watchdog @vscode/deviceid
# node-pty's postinstall only writes a dev compile_commands.json (through npx); build pty.node directly.
NODE_GYP="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
( cd node_modules/node-pty && node "$NODE_GYP" rebuild >/dev/null )
mkdir -p node_modules/@vscode/ripgrep/bin
cp -f "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
rm -rf node_modules.asar && ln -s node_modules node_modules.asar
( cd bin/remote-cli && rm -f code-server && ln -s code-linux.sh code-server )
( cd bin/helpers && rm -f browser.sh && ln -s browser-linux.sh browser.sh )
( cd extensions && npm install --omit=dev --no-audit --no-fund )

# Smoke check: every native module loads and code-server starts far enough to print its version.
node -e 'for (const m of ["kerberos","@vscode/spdlog","native-watchdog","node-pty","@vscode/deviceid"]) require(m)'
( cd "$KIT" && node -e 'require("argon2")' )
XDG_CONFIG_HOME="$KIT/xdg-config" XDG_DATA_HOME="$KIT/xdg-data" node "$KIT/node_modules/code-server/out/node/entry.js" --version
touch "$KIT_STAMP"
log "e2e kit ready in $KIT"
