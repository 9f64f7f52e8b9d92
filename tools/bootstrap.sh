# Shared by demo.sh and test.sh: a Python >= 3.11 virtual environment in .venv.
# Sourced, not run. Installs Debian packages only when something is missing.

set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DOCKAUDIT_VENV:-$REPO/.venv}"

apt_install() {
  # apt_install PACKAGE... — only as root, only what is missing.
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "dockaudit: please install: ${missing[*]} (needs root)" >&2
    return 1
  fi
  if [ -z "${DOCKAUDIT_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    export DOCKAUDIT_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python() {
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

make_venv() {
  # make_venv EXTRAS — create .venv (if needed) and install dockaudit into it.
  local extras="$1" python
  if ! python="$(find_python)"; then
    apt_install python3 python3-venv python3-pip
    python="$(find_python)" || { echo "dockaudit needs Python 3.11 or newer" >&2; exit 2; }
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    if ! "$python" -m venv "$VENV" 2>/dev/null; then
      apt_install python3-venv
      rm -rf "$VENV"
      "$python" -m venv "$VENV"
    fi
  fi
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  # The distribution was called dockaudit before it became dockaudit-lint: an environment
  # made then would hold both, and the same rules twice; so would its build metadata left
  # in the checkout, which Python finds when it runs from there.
  if "$VENV/bin/python" -m pip show -q dockaudit >/dev/null 2>&1; then
    "$VENV/bin/python" -m pip uninstall -q -y dockaudit >/dev/null
  fi
  rm -rf "$REPO/dockaudit.egg-info"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$REPO$extras"
}
