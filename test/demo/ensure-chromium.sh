#!/usr/bin/env bash
# Installs Debian's Chromium when /usr/bin/chromium is missing. The HTML status-mail test renders
# every event's HTML part in it (headless, through playwright-core) and saves a screenshot.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "ticketpost: Chromium is not installed; installing chromium with apt-get" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "ticketpost: not root and no sudo: run 'apt-get install -y chromium' as root" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "ticketpost: Chromium installed ($(/usr/bin/chromium --version 2>/dev/null || echo unknown version))" >&2
