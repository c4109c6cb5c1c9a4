#!/bin/bash
# tests/lib/freshroot.sh — a pristine Debian bookworm root, as a fresh
# developer machine has it: debootstrap's minbase plus git, make, gcc,
# libc6-dev and ca-certificates, and Debian's usual apt sources.
#
#   bash tests/lib/freshroot.sh make DIR    unpack a fresh root into DIR
#                                           (DIR must not exist) and mount
#                                           /proc, /sys and the host's /dev
#                                           (with /dev/pts, /dev/shm) in it
#   bash tests/lib/freshroot.sh umount DIR  unmount everything under DIR
#
# The first run builds the root with debootstrap (a minute or two, from
# deb.debian.org) and keeps it as build/freshroot/bookworm-minbase.tar.gz;
# later runs unpack that tarball (seconds). FRESHROOT_CACHE overrides the
# tarball's path. Needs root and, for the first run, debootstrap.
#
# What makes a chroot differ from a machine, and what is done about it:
#   - no init system: a package's postinst would start its daemon (sshd on
#     port 22, squid on 3128) inside the chroot, outliving the run and
#     keeping the mounts busy; /usr/sbin/policy-rc.d says no, as Debian's
#     chroot builders (sbuild, pbuilder) do. The tests start their own.
#   - no resolver of its own: the host's /etc/resolv.conf is copied in.
#   - / is not a mount point in a plain chroot: the root is bind-mounted
#     on itself, so that unshare --mount works in it as on a machine.
#   - no /etc/hosts (the installer, not debootstrap, writes it): the one
#     Debian's installer writes is put in, localhost on 127.0.0.1 and ::1.
# Nothing else is added: no package of the suite is installed here.
set -euo pipefail

SELF_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SELF_DIR/../.." && pwd)
CACHE=${FRESHROOT_CACHE:-$REPO/build/freshroot/bookworm-minbase.tar.gz}
MIRROR=http://deb.debian.org/debian
INCLUDE=git,make,gcc,libc6-dev,ca-certificates

die() { echo "freshroot: $*" >&2; exit 1; }
say() { echo "freshroot: $*" >&2; }

# build_cache — debootstrap a root in a scratch directory, tar it to $CACHE
build_cache() {
	command -v debootstrap >/dev/null 2>&1 ||
		die "debootstrap is not installed (Debian: apt-get install debootstrap)"
	local tmp
	mkdir -p "$(dirname "$CACHE")"
	tmp=$(mktemp -d "$(dirname "$CACHE")/debootstrap.XXXXXX")
	chmod 755 "$tmp"  # it becomes the root's /: every user walks through it
	say "debootstrap --variant=minbase --include=$INCLUDE bookworm (once; cached in $CACHE)"
	if ! debootstrap --variant=minbase --include="$INCLUDE" bookworm "$tmp" "$MIRROR" \
		>"$tmp.log" 2>&1; then
		tail -n 20 "$tmp.log" >&2
		rm -rf "$tmp"
		die "debootstrap failed (log: $tmp.log)"
	fi
	# the sources a Debian 12 installation sets up
	rm -f "$tmp/etc/apt/sources.list"
	cat >"$tmp/etc/apt/sources.list.d/debian.sources" <<-EOF
		Types: deb
		URIs: $MIRROR
		Suites: bookworm bookworm-updates
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

		Types: deb
		URIs: http://deb.debian.org/debian-security
		Suites: bookworm-security
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_*
	tar -C "$tmp" --numeric-owner -czf "$CACHE.tmp" . && mv "$CACHE.tmp" "$CACHE"
	rm -rf "$tmp" "$tmp.log"
}

make_root() {
	local dir=$1
	[ ! -e "$dir" ] || die "$dir already exists"
	[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mount)"
	[ -s "$CACHE" ] || build_cache
	mkdir -p "$dir"
	tar -C "$dir" --numeric-owner -xzf "$CACHE"
	chmod 755 "$dir"
	printf '#!/bin/sh\n# a chroot: no daemon starts here (tests/lib/freshroot.sh)\nexit 101\n' \
		>"$dir/usr/sbin/policy-rc.d"
	chmod 755 "$dir/usr/sbin/policy-rc.d"
	cp -L /etc/resolv.conf "$dir/etc/resolv.conf"
	cat >"$dir/etc/hosts" <<-EOF
		127.0.0.1	localhost
		127.0.1.1	$(cat "$dir/etc/hostname")

		# The following lines are desirable for IPv6 capable hosts
		::1     localhost ip6-localhost ip6-loopback
		ff02::1 ip6-allnodes
		ff02::2 ip6-allrouters
	EOF
	# / must be a mount point, as on a machine: unshare --mount (the tests'
	# private mount namespaces) makes / private and fails on a plain
	# directory with "cannot change root filesystem propagation"
	mount --bind "$dir" "$dir"
	mount -t proc proc "$dir/proc"
	mount -t sysfs sysfs "$dir/sys"
	# the host's /dev with its pts and shm; what is mounted under it here
	# does not propagate back
	mount --rbind /dev "$dir/dev"
	mount --make-rslave "$dir/dev"
	say "fresh bookworm root in $dir"
}

umount_root() {
	local dir=$1 m
	[ -d "$dir" ] || return 0
	# deepest first
	for m in $(awk -v d="$(cd "$dir" && pwd -P)" '$2 == d || index($2, d "/") == 1 { print $2 }' \
		/proc/self/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}

case ${1:-} in
make) [ $# -eq 2 ] || die "usage: freshroot.sh make DIR"; make_root "$2" ;;
umount) [ $# -eq 2 ] || die "usage: freshroot.sh umount DIR"; umount_root "$2" ;;
*) die "usage: freshroot.sh make|umount DIR" ;;
esac
