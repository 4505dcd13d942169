#!/usr/bin/env bash
# Starts the development service (called by ./setup.sh serve after the build).
# Until hashscreend exists, this hashes the bundled conformance images locally.
set -euo pipefail
cd "$(dirname "$0")/.."
exec build/hashscreen hash ../shared/conformance/images/bridge-mods/*.jpg
