#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the project needs, if missing: `install-system-packages.sh [--tests|--cron]`.
set -euo pipefail

die() { echo "ERROR: $*" >&2; exit 1; }

# Server major version: the installed one, else the distribution's default.
pg_major() {
  local installed
  installed="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)"
  if [ -n "$installed" ]; then echo "$installed"; return; fi
  apt-cache depends postgresql 2>/dev/null | sed -n 's/.*Depends: postgresql-\([0-9]\+\)$/\1/p' | head -n 1
}

missing=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || missing+=("$1"); }

command -v dpkg-query >/dev/null && command -v apt-get >/dev/null || {
  echo "No apt-get here: install PostgreSQL (>= 15) with the hll extension, graphviz, dialog and python3-venv yourself,"
  echo "or point POSTGRES_HOST at an existing server (see README, 'Installing natively')."
  exit 0
}

if [ "${1:-}" = --tests ]; then
  for package in chromium tmux fonts-dejavu-core procps; do need "$package"; done
elif [ "${1:-}" = --cron ]; then  # make install-cron
  need cron
else
  for package in postgresql graphviz dialog gzip make python3-venv; do need "$package"; done
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || die "packages missing (${missing[*]:-}) and not root: install them as root"
  sudo="sudo"
fi

refreshed=""
install() {
  [ "$#" -gt 0 ] || return 0
  echo "==> apt-get install $*"
  [ -n "$refreshed" ] || { $sudo apt-get update -qq || die "apt-get update failed (network? permissions?)"; refreshed=1; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || die "apt-get install $* failed"
}

fresh_server=""
[[ " ${missing[*]:-} " == *" postgresql "* ]] && fresh_server=1
install "${missing[@]}"
if [ -n "$fresh_server" ] && command -v pg_lsclusters >/dev/null; then
  # Debian starts a default cluster on 5432 on install; the project runs its own cluster there.
  pg_lsclusters --no-header | awk '$4 == "online" {print $1, $2}' | while read -r version cluster; do
    echo "==> Stopping the cluster $version/$cluster that the postgresql package started (the project runs its own)"
    $sudo pg_ctlcluster "$version" "$cluster" stop || true
  done
fi
if [ -z "${1:-}" ]; then
  major="$(pg_major)"
  [ -n "$major" ] || die "could not tell which PostgreSQL version is installed"
  missing=(); need "postgresql-$major-hll"
  install "${missing[@]}"
fi
echo "==> System packages are installed"
