#!/usr/bin/env bash
# Installs Debian's Chromium when no Chromium is on PATH, for the HTML report's browser test
# (Tests/ReportsTests/HTMLReportBrowserTests.swift renders the page headless and reads the
# screenshot back). `make test` runs this first; without Chromium that test would be skipped.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  echo "install_chromium: $(command -v chromium || command -v chromium-browser) is installed"
  exit 0
fi
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium
chromium --version
