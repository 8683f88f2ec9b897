#!/usr/bin/env bash
# Generates the demo GitOps repository: a bare remote and a clone with a history of
# meaningful commits by a few authors over the last two weeks.
# Usage: demo-repo.sh REMOTE_DIR CLONE_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/demo" && pwd)
remote=$1 clone=$2
rm -rf "$remote" "$clone"
git init -q --bare -b main "$remote"
git clone -q "$remote" "$clone" 2>/dev/null
cd "$clone"
git config user.name "sextant demo"; git config user.email demo@sextant.invalid

n=0
start=$(( $(date +%s) - 14 * 86400 ))
commit() { # AUTHOR MESSAGE
  local name=${1% <*} email=${1#*<}; email=${email%>}
  n=$((n + 1))
  local when="@$((start + n * 13 * 3600 + (n * 7919 % 3600)))"
  git add -A
  GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email GIT_AUTHOR_DATE=$when \
  GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email GIT_COMMITTER_DATE=$when \
    git commit -q -m "$2"
}
edit() { sed -i "$1" "$2"; }
alice="Alice Ng <alice@shop.example>"
bob="Bob Okafor <bob@shop.example>"
chen="Chen Wei <chen@shop.example>"
dana="Dana Ruiz <dana@shop.example>"

cat >README.md <<'MD'
# shop-gitops
Manifests for the shop, deployed by sextant. `cluster/` holds cluster-wide objects
(namespaces, storage), `apps/` the shop's services and their databases.
MD
mkdir -p cluster apps
cp "$src/cluster/namespaces.yaml" cluster/
commit "$alice" "Start the shop GitOps repository with the shop namespace"
cp "$src/cluster/storageclass.yaml" cluster/
commit "$chen" "Add the px-db Portworx storage class for databases (repl 3, io_profile db)"
cp "$src/cluster/snapshot-crds.yaml" "$src/cluster/snapshotclass.yaml" cluster/
commit "$chen" "Install CSI snapshot CRDs and the Portworx snapshot class"
cp "$src/apps/front-end.yaml" apps/
commit "$bob" "Deploy the front-end"
cp "$src/apps/catalogue.yaml" "$src/apps/catalogue-db.yaml" apps/
commit "$alice" "Add catalogue with its MySQL database on px-db"
cp "$src/apps/carts.yaml" "$src/apps/carts-db.yaml" apps/
commit "$bob" "Add carts with its Mongo database"
cp "$src/apps/orders.yaml" "$src/apps/orders-db.yaml" apps/
commit "$dana" "Add orders with its Mongo database"
cp "$src/apps/user.yaml" "$src/apps/user-db.yaml" apps/
commit "$dana" "Add user service with its Mongo database"
edit 's/^  replicas: 1$/  replicas: 2/' apps/front-end.yaml
commit "$bob" "Run two front-end replicas"
edit 's/value: info/value: debug/' apps/catalogue.yaml
commit "$alice" "Turn on debug logging in catalogue to chase slow searches"
edit 's|catalogue:0.3.5|catalogue:0.3.6|' apps/catalogue.yaml
commit "$alice" "Bump catalogue to 0.3.6 (fixes slow tag search)"
edit 's/value: debug/value: info/' apps/catalogue.yaml
commit "$alice" "Back to info logging in catalogue"
cat >>apps/catalogue-db.yaml <<'YAML'
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: catalogue-db-config
  namespace: shop
  labels:
    app: catalogue-db
data:
  my.cnf: |
    [mysqld]
    innodb_buffer_pool_size = 512M
    max_connections = 200
YAML
commit "$chen" "Tune MySQL buffer pool and connection limit for catalogue-db"
# batch/v1beta1: the demo cluster is Kubernetes 1.20 (batch/v1 CronJob came in 1.21).
cat >apps/catalogue-db-backup.yaml <<'YAML'
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: catalogue-db-backup
  namespace: shop
  labels:
    app: catalogue-db
spec:
  schedule: "0 2 * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: dump
              image: mysql:8.0.36
              command: ["sh", "-c", "mysqldump --all-databases > /backup/catalogue.sql"]
YAML
commit "$chen" "Nightly logical backup of catalogue-db"
edit 's|carts:0.4.8|carts:0.4.9|' apps/carts.yaml
commit "$bob" "Bump carts to 0.4.9"
edit 's|orders:0.4.7|orders:0.4.8|' apps/orders.yaml
commit "$dana" "Bump orders to 0.4.8"
edit 's/^  replicas: 1$/  replicas: 2/' apps/orders.yaml
commit "$dana" "Scale orders to two replicas for the sale"
edit 's|mongo:6.0.13|mongo:6.0.14|' apps/orders-db.yaml
commit "$chen" "Patch orders-db to Mongo 6.0.14"
edit 's|user:0.4.7|user:0.4.8|' apps/user.yaml
commit "$dana" "Bump user to 0.4.8 (session fix)"
edit 's|front-end:0.3.12|front-end:0.3.13|' apps/front-end.yaml
commit "$bob" "Bump front-end to 0.3.13"
edit 's/value: info/value: warn/' apps/carts.yaml
commit "$bob" "Quieter carts logs"
# The three commits below are pending in the demo: the cluster is synced to the one above.
edit 's|mysql:8.0.36|mysql:8.0.37|' apps/catalogue-db.yaml
commit "$chen" "Upgrade catalogue-db to MySQL 8.0.37"
edit 's/^  replicas: 2$/  replicas: 3/' apps/front-end.yaml
commit "$bob" "Three front-end replicas ahead of the launch"
edit 's|carts:0.4.9|carts:0.5.0|' apps/carts.yaml
commit "$alice" "Bump carts to 0.5.0"
git push -q origin main
echo "$n commits"
