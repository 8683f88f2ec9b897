# Sourced by the terminal and soak benchmarks: a Deployment whose pods are replaced
# every few seconds, so the cluster pane has something to show all the time.
churn_start() { # SECONDS-BETWEEN-RESTARTS
  local kc="$envdir/kubeconfig"
  kubectl --kubeconfig "$kc" create namespace churn >/dev/null 2>&1 || true
  kubectl --kubeconfig "$kc" -n churn apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: churn}
spec:
  replicas: 5
  selector: {matchLabels: {app: churn}}
  template:
    metadata: {labels: {app: churn}}
    spec: {containers: [{name: app, image: busybox}]}
YAML
  ( while sleep "$1"; do
      kubectl --kubeconfig "$kc" -n churn rollout restart deployment/churn >/dev/null 2>&1 || true
    done ) &
  churn_pid=$!
}
churn_stop() { [ -z "${churn_pid:-}" ] || kill "$churn_pid" 2>/dev/null || true; }
