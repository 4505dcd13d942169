#!/bin/bash
# Validates deploy/ locally, with what a machine without a cluster has:
#   haproxy -c        the HAProxy configuration (with a throwaway certificate
#                     in place of /etc/haproxy/certs)
#   systemd-analyze   both units (`verify`; any warning fails), with
#                     /opt/hashscreen/hashscreend pointing at BUILD's binary
#   kubectl kustomize the Kubernetes manifests build (without kubectl: the
#                     files kustomization.yaml lists), every object has a
#                     kind and name, probes are on /readyz and /healthz
# usage: deploy/check.sh [BUILD_DIR]   (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

echo "== haproxy"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=hashscreen -days 1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
cat "$tmp/cert.pem" "$tmp/key.pem" > "$tmp/hashscreen.pem"
cp "$tmp/cert.pem" "$tmp/hashscreen-ca.pem"
sed -e "s|/etc/haproxy/certs|$tmp|" "$here/haproxy/haproxy.cfg" > "$tmp/haproxy.cfg"
# Port 443 needs no privilege for a check (-c binds nothing).
if ! haproxy -c -q -f "$tmp/haproxy.cfg"; then echo "haproxy.cfg: FAILED"; fail=1; else echo "haproxy.cfg: ok"; fi

echo "== systemd"
for unit in "$here"/systemd/*.service; do
  sed -e "s|/opt/hashscreen/hashscreend|$build/hashscreend|g" "$unit" > "$tmp/$(basename "$unit")"
done
out=$(cd "$tmp" && systemd-analyze verify --man=no ./*.service 2>&1) || true
if [ -n "$out" ]; then echo "$out"; echo "units: FAILED"; fail=1; else echo "units: ok"; fi

echo "== kubernetes"
if command -v kubectl >/dev/null; then
  kubectl kustomize "$here/kubernetes" > "$tmp/k8s.yaml"
else  # no kubectl (not a Debian package): the files kustomization.yaml lists
  for f in $(sed -n 's/^  - \(.*\.yaml\)$/\1/p' "$here/kubernetes/kustomization.yaml"); do
    cat "$here/kubernetes/$f"; echo "---"
  done > "$tmp/k8s.yaml"
fi
python3 - "$tmp/k8s.yaml" <<'PY' || fail=1
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
bad = [d for d in docs if not d.get("apiVersion") or not d.get("kind") or not d.get("metadata", {}).get("name")]
kinds = sorted(d["kind"] for d in docs)
need = {"Namespace", "ConfigMap", "StatefulSet", "Deployment", "Service", "HorizontalPodAutoscaler"}
probes = []
for d in docs:
    if d["kind"] in ("StatefulSet", "Deployment"):
        for c in d["spec"]["template"]["spec"]["containers"]:
            probes.append((c["readinessProbe"]["httpGet"]["path"], c["livenessProbe"]["httpGet"]["path"]))
ok = not bad and need <= set(kinds) and probes and all(p == ("/readyz", "/healthz") for p in probes)
print("manifests:", "ok" if ok else "FAILED", kinds)
sys.exit(0 if ok else 1)
PY
exit $fail
