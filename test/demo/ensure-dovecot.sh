#!/usr/bin/env bash
# Installs Dovecot (IMAP + LMTP) from Debian's packages when it is missing. Used by the demo and CI;
# the tests start their own private instance, so the system service is not needed and not started.
set -euo pipefail
if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then
  exit 0
fi
echo "ticketpost: Dovecot is not installed; installing dovecot-imapd and dovecot-lmtpd with apt-get" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "ticketpost: not root and no sudo: run 'apt-get install -y dovecot-imapd dovecot-lmtpd' as root" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq dovecot-imapd dovecot-lmtpd >/dev/null
# Debian starts the system service on install where it can; the tests and the demo do not use it.
echo "ticketpost: Dovecot installed ($(dovecot --version 2>/dev/null || /usr/sbin/dovecot --version))" >&2
