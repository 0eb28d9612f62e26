#!/usr/bin/env bash
# Build the base image of the Molecule site containers without any registry:
# debootstrap a Debian root file system and `docker import` it.
#
#   tests/images/build-site-image.sh                 # bookworm and trixie, when missing or stale
#   tests/images/build-site-image.sh trixie          # one suite (or EESZT_SITE_SUITE=trixie)
#   EESZT_SITE_IMAGE=name:tag tests/images/build-site-image.sh bookworm
#
# Each image (eeszt-connect/site-base:<suite>) is cached by name and by a
# recipe label: it is built once per machine and rebuilt only when the suite
# or this script's package list changes. The Debian mirror is the one this
# machine's apt already uses (or EESZT_DEBIAN_MIRROR), so no host name is
# written here. The suites are the Debian releases README's "Supported sites"
# lists as tested: 12 (bookworm) and 13 (trixie).
set -euo pipefail

SUITES=(bookworm trixie)
if [ "$#" -eq 0 ] && [ -z "${EESZT_SITE_SUITE:-}" ]; then
  [ -z "${EESZT_SITE_IMAGE:-}" ] || { echo "EESZT_SITE_IMAGE names one image: give its suite too" >&2; exit 2; }
  for suite in "${SUITES[@]}"; do
    "$0" "$suite"
  done
  exit 0
fi
SUITE="${1:-$EESZT_SITE_SUITE}"
case " ${SUITES[*]} " in
  *" $SUITE "*) ;;
  *) echo "unknown suite '$SUITE': one of ${SUITES[*]}" >&2; exit 2 ;;
esac
IMAGE="${EESZT_SITE_IMAGE:-eeszt-connect/site-base:$SUITE}"
# What a site needs: Python for Ansible, OpenSSL/CA store for TLS, curl for
# checks, stunnel4 for the local mutual-TLS gateway, nginx-light for the
# Molecule WAF container, procps/iproute2 for tests. The same names on both
# suites.
PACKAGES=python3,python3-apt,openssl,ca-certificates,curl,stunnel4,nginx-light,procps,iproute2,sudo,locales,tzdata

recipe=$(printf '%s|%s|%s' "$SUITE" "$PACKAGES" "v1" | sha256sum | cut -c1-16)

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  have=$(docker image inspect --format '{{ index .Config.Labels "org.eeszt.connect.recipe" }}' "$IMAGE" 2>/dev/null || true)
  if [ "$have" = "$recipe" ]; then
    echo "site image $IMAGE is up to date (recipe $recipe)"
    exit 0
  fi
  echo "site image $IMAGE has recipe '${have:-none}', want $recipe: rebuilding"
fi

mirror="${EESZT_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
if [ -z "$mirror" ]; then
  echo "cannot find a Debian mirror in /etc/apt; set EESZT_DEBIAN_MIRROR" >&2
  exit 2
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 2; }

work=$(mktemp -d /var/tmp/eeszt-site-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "debootstrap $SUITE from $mirror into $work"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
# Keep the image small and free of the build machine's state.
chroot "$work/root" apt-get clean
rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin
# Services must not start while packages are installed inside containers.
printf '#!/bin/sh\nexit 101\n' >"$work/root/usr/sbin/policy-rc.d"
chmod 0755 "$work/root/usr/sbin/policy-rc.d"

tar -C "$work/root" -c . | docker import \
  --change 'CMD ["sleep", "infinity"]' \
  --change 'ENV LANG=C.UTF-8' \
  --change "LABEL org.eeszt.connect.recipe=$recipe" \
  - "$IMAGE" >/dev/null
echo "built site image $IMAGE (recipe $recipe)"
