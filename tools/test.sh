#!/usr/bin/env bash
# Run the whole test suite: installs what the tests need (Docker engine and Compose
# package, busybox for the test image, Python packages) and runs pytest.
# The tests start their own private dockerd and stop it at the end.
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
apt_install ca-certificates git docker.io busybox-static docker-compose
make_venv "[test]"
cd "$REPO"
# The tests run with system folders only on PATH, less any folder that holds a dockaudit:
# a subprocess must never reach an installation other than the one under test.
clean_path=""
for dir in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  [ -d "$dir" ] && [ ! -e "$dir/dockaudit" ] && clean_path="${clean_path:+$clean_path:}$dir"
done
set +e
env PATH="$clean_path" "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "dockaudit tests: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit "$status"
