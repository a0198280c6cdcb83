# Sourced by scripts/test.sh: the storage, services and end-to-end tests also run on
# PostgreSQL, on a throwaway server the test run starts itself (tests/support/pg.py) with
# Debian's initdb/pg_ctl. On a fresh machine (CI runs as root) the `postgresql` package is
# installed with apt; if that is impossible the PostgreSQL tests fail loudly (the run stops
# with the reason), they are never skipped.
_pg_initdb() {
  ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | head -n 1 || true
}
if [ -z "$(_pg_initdb)" ] && ! command -v initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing postgresql for the PostgreSQL half of the tests" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # The package's own cluster (port 5432) is not wanted: the tests start their own server.
    mkdir -p /etc/postgresql-common
    [ -e /etc/postgresql-common/createcluster.conf ] \
      || echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confold postgresql >/dev/null
  else
    echo "warning: PostgreSQL's initdb/pg_ctl are missing and cannot be installed" \
         "(not root or no apt-get): install Debian's postgresql package;" \
         "the PostgreSQL tests will fail" >&2
  fi
fi
