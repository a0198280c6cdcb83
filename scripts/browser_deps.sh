# Sourced by scripts/test.sh: the staff console's browser tests need Debian's Chromium and
# a CJK font (Playwright itself comes with the test extras; never `playwright install`).
# On a fresh machine (CI runs as root) they are installed with apt; if that is impossible
# the browser tests fail loudly rather than being skipped.
_fonts="$(fc-list 2>/dev/null || true)"  # captured first: `fc-list | grep -q` trips pipefail
if [ ! -x /usr/bin/chromium ] || ! grep -qi "cjk\|wqy\|zenhei" <<<"$_fonts"; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium and fonts-noto-cjk for the console's browser tests" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      chromium fonts-noto-cjk >/dev/null
  else
    echo "warning: /usr/bin/chromium or a CJK font is missing and cannot be installed" \
         "(not root or no apt-get); the browser tests will fail" >&2
  fi
fi
