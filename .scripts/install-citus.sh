#!/usr/bin/env bash
# Installs Citus (columnar storage and the scale-out engine) into the PostgreSQL server programs that the
# project-local cluster runs, if it is not there yet: from Debian/Ubuntu packages where apt knows one
# (Citus's own package repository, when the machine has it configured), else built from the source tarball
# CITUS_SOURCE, with the patches lying beside it (`*.patch`, applied with patch -p1).
# Used by `make citus` and, for the tests of the Citus modes, by `make test`.
set -euo pipefail

die() { echo "ERROR: $*" >&2; exit 1; }
info() { echo "==> $*"; }

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The version this project is tested with; Citus 13.2 supports PostgreSQL 15 to 17.
CITUS_VERSION="${CITUS_VERSION:-13.2.2}"
# The vendored source of CI and of machines without Citus's package repository (../shared/vendor/citus).
CITUS_SOURCE="${CITUS_SOURCE:-$PROJECT_ROOT/../shared/vendor/citus/citus-$CITUS_VERSION.tar.gz}"

sudo=""
[ "$(id -u)" = 0 ] || { command -v sudo >/dev/null || die "installing Citus needs root (or sudo)"; sudo="sudo"; }

major="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)"
[ -n "$major" ] || die "no PostgreSQL server is installed: run 'make install-system-packages' first"
pg_config="/usr/lib/postgresql/$major/bin/pg_config"

installed_version() {
  local control
  control="/usr/share/postgresql/$major/extension/citus.control"
  [ -f "$control" ] && [ -f "/usr/lib/postgresql/$major/lib/citus.so" ] \
    && [ -f "/usr/lib/postgresql/$major/lib/citus_columnar.so" ] \
    && sed -n "s/^default_version = '\([0-9.]*\)-.*'/\1/p" "$control"
}

server_version() { dpkg-query -W -f='${Version}' "postgresql-$major" 2>/dev/null || true; }
server_before="$(server_version)"

current="$(installed_version || true)"
if [ -n "$current" ]; then
  info "Citus $current is installed for PostgreSQL $major"
  exit 0
fi

apt_install() {
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Citus's own packages (postgresql-<major>-citus-<x.y>), where apt has their repository.
package="postgresql-$major-citus-${CITUS_VERSION%.*}"
if command -v apt-cache >/dev/null && apt-cache show "$package" >/dev/null 2>&1; then
  info "apt-get install $package"
  apt_install "$package" || die "apt-get install $package failed"
else
  [ -f "$CITUS_SOURCE" ] || die "no package $package in apt's lists and no source tarball at $CITUS_SOURCE.
  Set CITUS_SOURCE to a Citus $CITUS_VERSION source tarball (github.com/citusdata/citus, tag v$CITUS_VERSION)."
  # Installing the server's dev package may upgrade the server to its minor version: clusters started
  # before then fail to load plpgsql ("undefined symbol") until they are restarted (make stop-db start-db).
  info "apt-get install the build dependencies of Citus (postgresql-server-dev-$major, ...)"
  apt_install build-essential "postgresql-server-dev-$major" liblz4-dev libzstd-dev libcurl4-openssl-dev \
    libkrb5-dev libssl-dev libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev zlib1g-dev \
    || die "apt-get install of Citus's build dependencies failed"
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  info "Building Citus from $CITUS_SOURCE (about 2 minutes on 2 cores)"
  tar -xzf "$CITUS_SOURCE" -C "$build" --strip-components=1
  for patch in "$(dirname "$CITUS_SOURCE")"/*.patch; do
    [ -f "$patch" ] || continue
    info "Applying $(basename "$patch")"
    patch --quiet --directory="$build" -p1 <"$patch" || die "$patch does not apply to $CITUS_SOURCE"
  done
  (cd "$build" && ./configure --quiet PG_CONFIG="$pg_config" >configure.log 2>&1) \
    || { tail -n 20 "$build/configure.log" >&2; die "configuring Citus failed"; }
  (cd "$build" && make -j"$(nproc)" >make.log 2>&1) || { grep -m 5 -E 'error' "$build/make.log" >&2; die "building Citus failed"; }
  (cd "$build" && $sudo make install >install.log 2>&1) || { tail -n 20 "$build/install.log" >&2; die "make install failed"; }
fi
# The dev package may have upgraded the server under a running cluster, which then fails to load its libraries.
if [ "$(server_version)" != "$server_before" ] && [ -x "$PROJECT_ROOT/.venv/bin/python" ]; then
  info "PostgreSQL $major was upgraded to $(server_version): restarting the project-local clusters"
  bash "$PROJECT_ROOT/.scripts/postgres.sh" stop && bash "$PROJECT_ROOT/.scripts/postgres.sh" start
fi
current="$(installed_version || true)"
[ -n "$current" ] || die "Citus was installed, but citus.so or citus_columnar.so is missing for PostgreSQL $major"
info "Citus $current is installed for PostgreSQL $major"
