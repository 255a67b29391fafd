#!/usr/bin/env bash
# Installs Debian's Chromium when no Chromium is on PATH, for the HTML report's browser test
# (Tests/ReportsTests/HTMLReportBrowserTests.swift renders the page headless and reads the
# screenshot back). `make test` does not install it: without Chromium that test is skipped.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  echo "install_chromium: $(command -v chromium || command -v chromium-browser) is installed"
  exit 0
fi
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
chromium --version
