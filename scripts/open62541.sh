#!/usr/bin/env bash
# open62541.sh fetches open62541 1.4 (and the mbedTLS it links) from Debian 13
# "trixie" into .cache/open62541/ and builds the factory simulator
# testdata/simulator/*.c into .cache/bin/factorysim.
#
# Debian 12 does not package open62541, but trixie's binaries run on it. The
# packages are unpacked with dpkg -x, never installed, and apt runs against a
# private sources list, lists and cache directory, so the system's apt and
# dpkg state is left untouched. The mirror is read from the machine's own apt
# configuration, so no mirror is named here.
#
# Idempotent: the unpacked packages are reused while the package list is the
# same, and the binary is rebuilt only when a C source or header (or this
# script) is newer. Concurrent runs (several test binaries) are serialized with
# flock. Prints one line on success; on failure, an error and the tail of the
# relevant log on stderr, and exits non-zero.
#
# Usage: scripts/open62541.sh            # fetch if needed, build if needed
# Environment: FACTORYSIM_CACHE overrides the cache root (default <repo>/.cache);
# DEBIAN_MIRROR overrides the mirror URI read from /etc/apt.
set -euo pipefail

readonly SUITE=trixie
readonly PACKAGES=(libopen62541-1.4 libopen62541-1.4-dev libmbedcrypto16
	libmbedx509-7 libmbedtls21 libmbedtls-dev)

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF=$REPO/scripts/$(basename "${BASH_SOURCE[0]}")
CACHE=${FACTORYSIM_CACHE:-$REPO/.cache}
ROOT=$CACHE/open62541     # dpkg -x target: ROOT/usr/include, ROOT/usr/lib/…
WORK=$CACHE/open62541-apt # private apt state, downloaded .debs, logs
SRCDIR=$REPO/testdata/simulator
BIN=$CACHE/bin/factorysim
STAMP=$ROOT/.complete # the package list, then the .deb files unpacked

die() {
	echo "open62541.sh: $*" >&2
	exit 1
}

# die_log reports a failed step with the last lines of its log.
die_log() {
	local msg=$1 log=$2
	{
		echo "open62541.sh: $msg (log: $log)"
		tail -n 20 "$log" | sed 's/^/  | /'
	} >&2
	exit 1
}

need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# debian_mirror prints the URI of the machine's main Debian archive, read from
# the one-line (*.list) and deb822 (*.sources) apt source files under $1
# (default /etc/apt). Security, third-party and disabled entries are skipped.
debian_mirror() {
	local etc=${1:-/etc/apt} files=() f
	[[ -f $etc/sources.list ]] && files+=("$etc/sources.list")
	for f in "$etc"/sources.list.d/*.list "$etc"/sources.list.d/*.sources; do
		[[ -f $f ]] && files+=("$f")
	done
	((${#files[@]})) || return 1
	awk '
		function consider(types, uris, suites, enabled,   n, u, i) {
			if (types !~ /(^|[ \t])deb([ \t]|$)/ || enabled ~ /^[ \t]*no/) return
			if (suites ~ /security/) return
			n = split(uris, u, /[ \t]+/)
			for (i = 1; i <= n; i++)
				if (u[i] ~ /^https?:\/\/.*\/debian\/?$/ && !found) {
					sub(/\/$/, "", u[i]); print u[i]; found = 1
				}
		}
		function flush() {
			if (types != "") consider(types, uris, suites, enabled)
			types = uris = suites = enabled = ""
		}
		FILENAME ~ /\.sources$/ {
			if ($0 ~ /^[ \t]*$/) { flush(); next }
			if ($0 ~ /^[ \t]*#/) next
			key = tolower($1); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
			if (key == "types:") types = val
			else if (key == "uris:") uris = val
			else if (key == "suites:") suites = val
			else if (key == "enabled:") enabled = tolower(val)
			next
		}
		# One-line format: deb [options] uri suite components...
		FNR == 1 { flush() }
		$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
			consider("deb", $i, $(i + 1), "")
		}
		END { flush() }
	' "${files[@]}"
}

# apt_private runs an apt tool against the private state in WORK only.
apt_private() {
	local tool=$1
	shift
	"$tool" -c "$WORK/apt.conf" \
		-o Dir::Etc::SourceList="$WORK/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::Etc::Preferences=/dev/null \
		-o Dir::Etc::PreferencesParts=/dev/null \
		-o Dir::State::Lists="$WORK/lists" \
		-o Dir::Cache="$WORK/cache" \
		-o APT::Sandbox::User="$(id -un)" \
		"$@"
}

write_apt_config() {
	local mirror=$1 keyring=/usr/share/keyrings/debian-archive-keyring.gpg opts=""
	mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/debs"
	[[ -f $keyring ]] && opts="[signed-by=$keyring] "
	echo "deb ${opts}$mirror $SUITE main" >"$WORK/sources.list"
	# Read after the system's apt.conf.d, so it can drop hooks that would
	# touch system state (AppStream, PackageKit) and skip indexes not needed.
	cat >"$WORK/apt.conf" <<-'EOF'
		#clear APT::Update::Pre-Invoke;
		#clear APT::Update::Post-Invoke;
		#clear APT::Update::Post-Invoke-Success;
		Acquire::Languages "none";
		Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
		Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
	EOF
}

fetch() {
	need apt-get "this script needs a Debian-based machine"
	need dpkg "this script needs a Debian-based machine"
	local mirror log=$WORK/fetch.log
	mirror=${DEBIAN_MIRROR:-$(debian_mirror || true)}
	[[ -n $mirror ]] || die "no Debian mirror (http…/debian) in /etc/apt/sources.list{,.d/*}; set DEBIAN_MIRROR"
	write_apt_config "$mirror"
	: >"$log"
	apt_private apt-get -q --error-on=any update >>"$log" 2>&1 ||
		die_log "apt-get update for $SUITE from $mirror failed" "$log"
	rm -f "$WORK"/debs/*.deb
	(cd "$WORK/debs" && apt_private apt-get -q download "${PACKAGES[@]}") >>"$log" 2>&1 ||
		die_log "apt-get download ${PACKAGES[*]} failed" "$log"
	unpack "$log"
	rm -rf "$WORK/lists" "$WORK/cache" # 20 MB of indexes, refetched if needed
}

# unpack extracts the .debs beside ROOT and then swaps the tree in, so that a
# simulator starting meanwhile finds the old libraries or the new ones. The
# stamp is written inside the new tree, so an interrupted run is redone.
unpack() {
	local log=$1 deb new=$ROOT.new
	rm -rf "$new"
	mkdir -p "$new"
	for deb in "$WORK"/debs/*.deb; do
		dpkg -x "$deb" "$new" >>"$log" 2>&1 || die_log "dpkg -x $deb failed" "$log"
	done
	{
		echo "${PACKAGES[*]}"
		(cd "$WORK/debs" && ls ./*.deb)
	} >"$new/.complete"
	rm -rf "$ROOT"
	mv "$new" "$ROOT"
}

libdir() {
	echo "$ROOT/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"
}

build() {
	need gcc "install gcc (apt-get install gcc)"
	local lib log=$WORK/build.log
	lib=$(libdir)
	mkdir -p "$(dirname "$BIN")"
	: >"$log"
	# -isystem: the library's own headers warn under -Wextra. DT_RPATH (old
	# dtags) rather than DT_RUNPATH, because only DT_RPATH is also searched for
	# libopen62541's own dependencies (the mbedTLS libraries).
	gcc -std=c11 -O2 -Wall -Wextra -o "$BIN.tmp" "$SRCDIR"/*.c \
		-isystem "$ROOT/usr/include" -L "$lib" \
		-Wl,-rpath-link,"$lib" -Wl,-rpath,"$lib" -Wl,--disable-new-dtags \
		-lopen62541 -lm >>"$log" 2>&1 || die_log "compile $SRCDIR failed" "$log"
	# A trixie library that needs more than this system's libc shows here,
	# not at test time.
	if ldd "$BIN.tmp" 2>&1 | grep -E 'not found|version .* not found' >>"$log"; then
		die_log "$BIN cannot load its libraries" "$log"
	fi
	mv -f "$BIN.tmp" "$BIN"
}

# stale reports whether the binary is missing or older than its inputs.
stale() {
	[[ -x $BIN ]] || return 0
	local f
	for f in "$SRCDIR"/*.c "$SRCDIR"/*.h "$SELF"; do
		[[ $f -nt $BIN ]] && return 0
	done
	return 1
}

main() {
	mkdir -p "$CACHE" "$WORK"
	need flock "install util-linux"
	exec 9>"$CACHE/open62541.lock"
	flock 9
	[[ -f $SRCDIR/factorysim.c ]] || die "missing $SRCDIR/factorysim.c"
	local fetched=cached built=cached
	if [[ "$(head -n 1 "$STAMP" 2>/dev/null)" != "${PACKAGES[*]}" ]]; then
		fetch
		fetched=fetched
	fi
	if stale; then
		build
		built=built
	fi
	local version
	version=$(sed -n 's/^\.\/libopen62541-1\.4_\(.*\)_[a-z0-9]*\.deb$/\1/p' "$STAMP")
	echo "factorysim: ${BIN#"$REPO"/} ($built; open62541 ${version:-?} $fetched)"
}

main "$@"
