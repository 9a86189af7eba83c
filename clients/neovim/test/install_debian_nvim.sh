#!/usr/bin/env bash
# Usage: install_debian_nvim.sh SUITE VERSION DEST WRAPPER PATCHELF
# Installs the Neovim that Debian SUITE ships (expected: Neovim VERSION, e.g. 0.10) into DEST with
# that suite's own libraries (its libc included), and writes WRAPPER, an executable that runs it like
# any nvim. Called by install.sh; idempotent (does nothing when WRAPPER already runs VERSION).
#
# Why this way: the newer suites build against a newer glibc than this machine's, so their nvim
# cannot use the system's libraries. apt itself does the fetch — with a private state directory,
# this machine's own Debian mirror and archive keyring, so the indexes are signature-checked and the
# dependency closure is apt's — and dpkg-deb unpacks the packages without installing them. PATCHELF
# then points nvim at the unpacked loader and libraries: a real executable (not `ld.so nvim`), so
# v:progpath is nvim and a spec that starts a child nvim (`--embed`) gets the same Neovim.
set -euo pipefail
suite=$1 version=$2 dest=$3 wrapper=$4 patchelf=$5
me="clients/neovim/test/install_debian_nvim.sh"
fail() { echo "$me: Neovim $version from Debian $suite: $*" >&2; exit 1; }

is_version() {  # the wrapper runs and is Neovim $version (and not newer)
  [ -x "$wrapper" ] && "$wrapper" --clean --headless -c \
    "if has('nvim-$version') && !has('nvim-${version%.*}.$((${version#*.} + 1))') | qa! | else | cq | endif" \
    >/dev/null 2>&1
}
is_version && exit 0

for tool in apt-get apt-cache dpkg-deb; do
  command -v "$tool" >/dev/null || fail "needs $tool (a Debian or Ubuntu machine)"
done
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || fail "needs $keyring (package debian-archive-keyring)"
# The Debian mirror this machine's apt is configured with (the one that serves its own release).
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
mirror=$(apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' 2>/dev/null \
  | awk -v c="$codename" '$2 == c { print $1; exit }')
[ -n "$mirror" ] || fail "no Debian mirror for '$codename' in this machine's apt sources"

apt_dir=$dest/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/empty" "$apt_dir/debs"
echo "deb [signed-by=$keyring] $mirror $suite main" > "$apt_dir/sources.list"
: > "$apt_dir/status"  # nothing "installed": apt-cache resolves the whole closure, libc included
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/empty"
  -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$apt_dir/empty"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::State::Status=$apt_dir/status"
  -o "Dir::Cache::Archives=$apt_dir/archives" -o "Debug::NoLocking=1"
  # The private directories belong to whoever runs this; apt's _apt sandbox user could not write them.
  -o "APT::Sandbox::User=$(id -un)" -o "APT::Architecture=$(dpkg --print-architecture)"
)
apt-get -qq "${apt_opts[@]}" update || fail "apt-get update of $suite failed (network? mirror $mirror)"
mapfile -t packages < <(apt-cache "${apt_opts[@]}" depends --recurse --no-recommends --no-suggests \
  --no-conflicts --no-breaks --no-replaces --no-enhances neovim | grep '^[a-z0-9]' | sort -u)
[ "${#packages[@]}" -gt 1 ] || fail "apt could not resolve neovim's dependencies in $suite"
# The exact file of each package (the suite's current version), then apt fetches and checks them;
# it keeps files already there with the right checksum, so a second run fetches nothing.
mapfile -t debs < <(apt-get -qq "${apt_opts[@]}" --print-uris download "${packages[@]}" | awk '{ print $2 }')
[ "${#debs[@]}" -eq "${#packages[@]}" ] || fail "apt found no download for some of ${packages[*]}"
(cd "$apt_dir/debs" && apt-get -qq "${apt_opts[@]}" download "${packages[@]}") \
  || fail "apt-get download of ${packages[*]} failed"

root=$dest/root
rm -rf "$root" && mkdir -p "$root"
for deb in "${debs[@]}"; do
  [ -f "$apt_dir/debs/$deb" ] || fail "apt did not download $deb"
  dpkg-deb -x "$apt_dir/debs/$deb" "$root"
done
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$(uname -m)-linux-gnu")
loader=$(ls "$root"/usr/lib/"$multiarch"/ld-linux*.so.* 2>/dev/null | head -n 1)
[ -n "$loader" ] || fail "the unpacked libc6 has no dynamic loader"
# RPATH (not RUNPATH) so that the libraries' own dependencies are found there too.
"$patchelf" --set-interpreter "$loader" --force-rpath --set-rpath "\$ORIGIN/../lib/$multiarch" "$root/usr/bin/nvim"

# VIMRUNTIME: the build looks in /usr/share/nvim first, which may hold another Neovim's runtime.
# A bash script, as printf %q quotes for bash.
mkdir -p "$(dirname "$wrapper")"
printf '#!/usr/bin/env bash\n# Neovim %s from Debian %s with its own libraries (clients/neovim/test/install.sh).\nVIMRUNTIME=%q exec %q "$@"\n' \
  "$version" "$suite" "$root/usr/share/nvim/runtime" "$root/usr/bin/nvim" > "$wrapper"
chmod +x "$wrapper"
is_version || fail "$wrapper does not run as Neovim $version: $("$wrapper" --version 2>&1 | head -n 3)"
