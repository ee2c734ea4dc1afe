#!/bin/sh
# promtool and prometheus for the observability tests (the alert rules' unit tests, the real
# scrape): Debian's `prometheus` package. Installs only what is missing; needs root (or sudo).
# The package's own service is not started (policy-rc.d): the tests run their own Prometheus.
set -eu
if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then as_root=""; elif command -v sudo >/dev/null 2>&1; then as_root="sudo"; else
    echo "promtool and prometheus are needed: as root, run apt-get install -y prometheus" >&2
    exit 1
fi
echo "Installing Debian's prometheus package (promtool, prometheus) for the observability tests"
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $as_root tee "$policy" >/dev/null
    $as_root chmod 755 "$policy"
    made_policy=yes
fi
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
if [ -n "$made_policy" ]; then $as_root rm -f "$policy"; fi
