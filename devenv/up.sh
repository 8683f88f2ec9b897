#!/usr/bin/env bash
# Starts the local environment from a clean state: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, the Portworx simulator, the node agent,
# Prometheus with 24 h of backfilled history, and the demo GitOps repository,
# synced to an earlier commit with one drifted object.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
testbin=${SEXTANT_TESTENV_BIN:-$root/target/debug}

for b in kube-apiserver kube-controller-manager kube-scheduler; do
  [ -x "$kubebin/$b" ] || die "$kubebin/$b is missing: run devenv/build-kube.sh (make deps does)"
done
for b in etcd prometheus promtool kubectl openssl git curl; do
  command -v $b >/dev/null || die "$b is not installed: run 'make deps'"
done
for b in px-sim node-agent; do
  [ -x "$testbin/$b" ] || die "$testbin/$b is missing: run 'cargo build -p testenv'"
done

"$root/devenv/down.sh" >/dev/null 2>&1 || true
rm -rf "$envdir"
mkdir -p "$envdir"/{pki,logs,pids,prometheus}
pki=$envdir/pki
cd "$envdir"

say "certificates and tokens"
(
  cd "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
    -subj "/CN=sextant-demo-ca" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr \
    -subj "/CN=kube-apiserver" 2>/dev/null
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.96.0.1" \
    "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" >apiserver.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out apiserver.crt -days 3650 -extfile apiserver.ext 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  tok() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
  admin=$(tok); kcm=$(tok); sched=$(tok); agent=$(tok); viewer=$(tok)
  {
    echo "$admin,admin,admin,system:masters"
    echo "$kcm,system:kube-controller-manager,kcm,system:masters"
    echo "$sched,system:kube-scheduler,scheduler,system:masters"
    echo "$agent,sextant-node-agent,node-agent,system:masters"
    echo "$viewer,shop-viewer,viewer,"
  } >tokens.csv
  echo "$admin" >admin.token; echo "$kcm" >kcm.token; echo "$sched" >sched.token; echo "$agent" >agent.token; echo "$viewer" >viewer.token
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >px-shared-secret
  chmod 600 ./*
)

kubeconfig() { # FILE USER TOKENFILE
  local f=$1
  kubectl config --kubeconfig="$f" set-cluster demo --server="https://127.0.0.1:$api_port" \
    --certificate-authority="$pki/ca.crt" --embed-certs=true >/dev/null
  kubectl config --kubeconfig="$f" set-credentials "$2" --token="$(cat "$3")" >/dev/null
  kubectl config --kubeconfig="$f" set-context demo --cluster=demo --user="$2" --namespace=shop >/dev/null
  kubectl config --kubeconfig="$f" use-context demo >/dev/null
  chmod 600 "$f"
}
kubeconfig "$envdir/kubeconfig" admin "$pki/admin.token"
kubeconfig "$pki/kcm.kubeconfig" system:kube-controller-manager "$pki/kcm.token"
kubeconfig "$pki/sched.kubeconfig" system:kube-scheduler "$pki/sched.token"
kubeconfig "$pki/agent.kubeconfig" sextant-node-agent "$pki/agent.token"
kubeconfig "$envdir/viewer.kubeconfig" shop-viewer "$pki/viewer.token"
# A second context in the main kubeconfig, for switching with :ctx.
kubectl config --kubeconfig="$envdir/kubeconfig" set-credentials shop-viewer --token="$(cat "$pki/viewer.token")" >/dev/null
kubectl config --kubeconfig="$envdir/kubeconfig" set-context demo-viewer --cluster=demo --user=shop-viewer --namespace=shop >/dev/null
export KUBECONFIG=$envdir/kubeconfig

say "etcd on 127.0.0.1:$etcd_port"
start etcd etcd --name demo --data-dir "$envdir/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster "demo=http://127.0.0.1:$etcd_peer_port" --log-level warn
wait_for etcd 30 curl -sf "http://127.0.0.1:$etcd_port/health"

say "Portworx simulator on 127.0.0.1:$px_port (metrics on $px_metrics_port)"
start px-sim "$testbin/px-sim" serve --listen "127.0.0.1:$px_port" --metrics-listen "127.0.0.1:$px_metrics_port" \
  --secret-file "$pki/px-shared-secret" --nodes node-1,node-2,node-3
"$testbin/px-sim" token --secret-file "$pki/px-shared-secret" --role system.admin --name demo-admin >"$pki/px-admin.token"
"$testbin/px-sim" token --secret-file "$pki/px-shared-secret" --role system.view --name demo-viewer >"$pki/px-view.token"
chmod 600 "$pki"/px-*.token
wait_for px-sim 30 curl -sf -H "Authorization: bearer $(cat "$pki/px-view.token")" "http://127.0.0.1:$px_port/v1/clusters/inspectcurrent"

say "kube-apiserver on 127.0.0.1:$api_port"
# Kept in a file so that devenv/restart-apiserver.sh can start it again the same way.
cat >"$envdir/kube-apiserver.args" <<ARGS
--etcd-servers=http://127.0.0.1:$etcd_port --bind-address=127.0.0.1 --advertise-address=127.0.0.1
--secure-port=$api_port --insecure-port=0
--tls-cert-file=$pki/apiserver.crt --tls-private-key-file=$pki/apiserver.key --client-ca-file=$pki/ca.crt
--token-auth-file=$pki/tokens.csv --authorization-mode=RBAC
--service-account-key-file=$pki/sa.pub --service-account-signing-key-file=$pki/sa.key
--service-account-issuer=https://kubernetes.default.svc
--service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true --profiling=false
--enable-priority-and-fairness=false --endpoint-reconciler-type=none
ARGS
start kube-apiserver "$kubebin/kube-apiserver" $(cat "$envdir/kube-apiserver.args")
ready() { curl -sf --cacert "$pki/ca.crt" -H "Authorization: Bearer $(cat "$pki/admin.token")" "https://127.0.0.1:$api_port/readyz"; }
wait_for kube-apiserver 90 ready || { tail -20 "$envdir/logs/kube-apiserver.log"; exit 1; }

say "kube-controller-manager and kube-scheduler"
start kube-controller-manager "$kubebin/kube-controller-manager" \
  --kubeconfig="$pki/kcm.kubeconfig" --authentication-kubeconfig="$pki/kcm.kubeconfig" \
  --authorization-kubeconfig="$pki/kcm.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$kcm_port" --port=0 --leader-elect=false \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
  --controllers='*,-nodeipam,-cloud-node-lifecycle,-route,-service' --profiling=false \
  --kube-api-qps=300 --kube-api-burst=600
start kube-scheduler "$kubebin/kube-scheduler" \
  --kubeconfig="$pki/sched.kubeconfig" --authentication-kubeconfig="$pki/sched.kubeconfig" \
  --authorization-kubeconfig="$pki/sched.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$sched_port" --port=0 --leader-elect=false --profiling=false \
  --kube-api-qps=300 --kube-api-burst=600

say "node agent: three nodes, pods, volumes"
start node-agent "$testbin/node-agent" --kubeconfig "$pki/agent.kubeconfig" \
  --portworx "http://127.0.0.1:$px_port" --portworx-token-file "$pki/px-admin.token" \
  --nodes node-1,node-2,node-3
wait_for "three Ready nodes" 60 bash -c '[ "$(kubectl get nodes --no-headers 2>/dev/null | grep -c " Ready")" = 3 ]'
wait_for "the default service account" 60 kubectl -n default get serviceaccount default
say "Stork's snapshot CRDs (the node agent plays Stork)"
kubectl apply -f "$root/devenv/stork-crds.yaml" >/dev/null

say "demo GitOps repository"
"$root/devenv/demo-repo.sh" "$envdir/remote.git" "$envdir/shop-gitops" >"$envdir/logs/demo-repo.log"
synced=$(git -C "$envdir/shop-gitops" rev-parse HEAD~3)

say "syncing the cluster to ${synced:0:8} with sextant sync (three commits behind HEAD)"
sextant=${SEXTANT_BIN:-$root/target/debug/sextant}
[ -x "$sextant" ] || die "$sextant is missing: run 'make build-testenv'"
"$sextant" --kubeconfig "$envdir/kubeconfig" --repo "$envdir/shop-gitops" --log-file "$envdir/logs/sextant-sync.log" \
  sync --commit "$synced" --yes --timeout 180 >>"$envdir/logs/sync.log" \
  || die "the sync failed: see $envdir/logs/sync.log"

say "waiting for workloads and volumes"
wait_for "bound PVCs" 120 bash -c '! kubectl get pvc -A --no-headers 2>/dev/null | grep -v " Bound " | grep -q . && kubectl get pvc -A --no-headers | grep -q .'
wait_for "ready pods" 120 bash -c '! kubectl get pods -A --no-headers 2>/dev/null | grep -Ev " ([0-9]+)/\1 +Running " | grep -q . && kubectl get pods -A --no-headers | grep -q .'
# A user limited to reading the shop namespace, without Secrets: sextant must still work.
kubectl apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: shop-viewer, namespace: shop}
rules:
  - apiGroups: ["", "apps", "batch", "networking.k8s.io", "snapshot.storage.k8s.io"]
    resources: [pods, services, configmaps, persistentvolumeclaims, events, deployments, statefulsets, daemonsets, jobs, cronjobs, ingresses, volumesnapshots]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: shop-viewer, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: shop-viewer}
subjects: [{kind: User, name: shop-viewer, apiGroup: rbac.authorization.k8s.io}]
YAML
# One live object drifts from git: someone scaled carts by hand.
kubectl -n shop scale deployment carts --replicas=2 >/dev/null

say "Prometheus on 127.0.0.1:$prom_port with 24 h of backfilled history"
curl -sf -H "Authorization: bearer $(cat "$pki/px-view.token")" \
  "http://127.0.0.1:$px_metrics_port/sim/backfill?hours=24&step=60" >"$envdir/prometheus/backfill.om"
promtool tsdb create-blocks-from openmetrics "$envdir/prometheus/backfill.om" "$envdir/prometheus/data" >"$envdir/logs/backfill.log"
# Series of known values for the metrics tests, one sample a minute for 24 h up to the
# last full hour: "ramp" is the minute's index with minutes 600-629 missing (a gap);
# "nan" is the index mod 7, with NaN every tenth minute.
known_end=$(( $(date +%s) / 3600 * 3600 ))
awk -v end="$known_end" 'BEGIN {
  start = end - 86400
  print "# TYPE sextant_known gauge"
  for (t = start; t < end; t += 60) { m = (t - start) / 60; if (m >= 600 && m < 630) continue
    printf "sextant_known{series=\"ramp\"} %d %d\n", m, t }
  for (t = start; t < end; t += 60) { m = (t - start) / 60
    printf "sextant_known{series=\"nan\"} %s %d\n", (m % 10 == 5) ? "NaN" : m % 7, t }
  print "# EOF" }' >"$envdir/prometheus/known.om"
promtool tsdb create-blocks-from openmetrics "$envdir/prometheus/known.om" "$envdir/prometheus/data" >>"$envdir/logs/backfill.log"
cat >"$envdir/prometheus/prometheus.yml" <<YAML
global:
  scrape_interval: 15s
  evaluation_interval: 15s
scrape_configs:
  - job_name: prometheus
    static_configs: [{targets: ["127.0.0.1:$prom_port"]}]
  - job_name: portworx
    static_configs: [{targets: ["127.0.0.1:$px_metrics_port"]}]
YAML
start prometheus prometheus --config.file="$envdir/prometheus/prometheus.yml" \
  --storage.tsdb.path="$envdir/prometheus/data" --storage.tsdb.retention.time=30d \
  --web.listen-address="127.0.0.1:$prom_port"
wait_for prometheus 60 curl -sf "http://127.0.0.1:$prom_port/-/ready"

cat >"$envdir/config.toml" <<TOML
# sextant settings for the demo environment (written by devenv/up.sh)
kubeconfig = "$envdir/kubeconfig"
namespace = "shop"
repo = "$envdir/shop-gitops"
prometheus = "http://127.0.0.1:$prom_port"
portworx = "http://127.0.0.1:$px_port"
portworx_token_file = "$pki/px-admin.token"
TOML
cat >"$envdir/env.sh" <<SH
export SEXTANT_ENV_DIR=$envdir
export SEXTANT_TEST_KUBECONFIG=$envdir/kubeconfig
export SEXTANT_TEST_VIEWER_KUBECONFIG=$envdir/viewer.kubeconfig
export SEXTANT_TEST_REPO=$envdir/shop-gitops
export SEXTANT_TEST_REMOTE=$envdir/remote.git
export SEXTANT_TEST_PROMETHEUS=http://127.0.0.1:$prom_port
export SEXTANT_TEST_KNOWN_END=$known_end
export SEXTANT_TEST_PORTWORX=http://127.0.0.1:$px_port
export SEXTANT_TEST_PORTWORX_TOKEN_FILE=$pki/px-admin.token
export SEXTANT_TEST_PORTWORX_VIEW_TOKEN_FILE=$pki/px-view.token
SH
say "ready: kubeconfig $envdir/kubeconfig, settings $envdir/config.toml"
