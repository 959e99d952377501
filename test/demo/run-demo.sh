#!/usr/bin/env bash
# npm run demo: everything a newcomer needs to watch mails become tickets on this machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/demo/ensure-dovecot.sh
if [ ! -f dist/src/cli/main.js ] || [ ! -f dist/test/demo/demo.js ]; then npm run --silent build; fi
exec node dist/test/demo/demo.js "$@"
