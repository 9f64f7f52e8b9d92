#!/usr/bin/env bash
# Install dockaudit into .venv and run it on the bundled examples.
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
make_venv ""
cd "$REPO"
echo "\$ dockaudit check fixtures/examples/deploy.sh fixtures/examples/tutorial.md"
set +e
"$VENV/bin/dockaudit" check --format text fixtures/examples/deploy.sh fixtures/examples/tutorial.md
status=$?
set -e
echo
case "$status" in
  0) echo "dockaudit found nothing at or above 'warning' (exit 0)." ;;
  1) echo "dockaudit exited 1: the examples hold problems at or above 'warning', as they should." ;;
  *) echo "dockaudit failed (exit $status)." >&2; exit "$status" ;;
esac
echo "Next: $VENV/bin/dockaudit explain DA205   |   $VENV/bin/dockaudit rules"
