//! The cluster tree: namespaces → workloads → pods → containers and claims → PVs, with
//! Services, snapshots and config under their owners, and health rolled up from children.
use super::cluster::{ClusterState, Health, Key, Kind, KindStatus, ObjRow};

/// What a tree line shows besides an object row.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Row,
    /// The pod's container at this index.
    Container(usize),
    /// Why a branch has no rows: forbidden, not served, failing.
    Note(String),
}

/// One line of the tree as drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct TreeLine {
    pub key: Key,
    pub item: Item,
    pub depth: u8,
    pub expandable: bool,
    pub expanded: bool,
    /// Rolled up from children for namespaces and workloads.
    pub health: Health,
    /// For namespaces: workloads and pods counted.
    pub counts: Option<(usize, usize)>,
}

impl TreeLine {
    fn row(r: &ObjRow, depth: u8, health: Health) -> TreeLine {
        TreeLine {
            key: r.key(),
            item: Item::Row,
            depth,
            expandable: false,
            expanded: false,
            health,
            counts: None,
        }
    }
}

/// What `/` filters by.
#[derive(Debug, PartialEq)]
pub enum Filter {
    Name(String),
    Label(String, String),
    State(String),
}

pub fn parse_filter(f: &str) -> Option<Filter> {
    let f = f.trim();
    if f.is_empty() {
        None
    } else if let Some(sel) = f.strip_prefix("l:") {
        let (k, v) = sel.split_once('=').unwrap_or((sel, ""));
        Some(Filter::Label(k.trim().into(), v.trim().into()))
    } else if let Some(s) = f.strip_prefix("s:") {
        Some(Filter::State(s.trim().to_lowercase()))
    } else {
        Some(Filter::Name(f.to_lowercase()))
    }
}

impl Filter {
    pub fn matches(&self, r: &ObjRow) -> bool {
        match self {
            Filter::Name(n) => r.name.to_lowercase().contains(n),
            Filter::Label(k, v) => r
                .selector
                .iter()
                .any(|(a, b)| a == k && (v.is_empty() || b == v)),
            Filter::State(s) if s == "unhealthy" => !matches!(r.health, Health::Healthy),
            Filter::State(s) => r.health.label() == s,
        }
    }
}

fn selects(svc: &ObjRow, workload: &ObjRow) -> bool {
    !svc.selector.is_empty() && svc.selector.iter().all(|p| workload.selector.contains(p))
}

struct Builder<'a> {
    c: &'a ClusterState,
    out: Vec<TreeLine>,
}

impl<'a> Builder<'a> {
    fn open(&self, key: &Key) -> bool {
        self.c.expanded.contains(key)
    }

    fn pods_of(
        &self,
        ns: &'a str,
        kind: Kind,
        name: &'a str,
    ) -> impl Iterator<Item = &'a ObjRow> + 'a {
        self.c.in_namespace(Kind::Pod, ns).filter(move |p| {
            p.owner
                .as_ref()
                .is_some_and(|(k, o)| *k == kind && o == name)
        })
    }

    /// A claim line and, when open, its PV with the Portworx volume id.
    fn claim(&mut self, ns: &str, claim: &str, depth: u8) -> Health {
        let Some(pvc) = self.c.row(Kind::Pvc, ns, claim) else {
            return Health::Unknown;
        };
        let pv = pvc
            .claims
            .first()
            .and_then(|pv| self.c.row(Kind::Pv, "", pv));
        let mut line = TreeLine::row(pvc, depth, pvc.health);
        line.expandable = pv.is_some();
        line.expanded = line.expandable && self.open(&line.key);
        let open = line.expanded;
        self.out.push(line);
        if let (true, Some(pv)) = (open, pv) {
            self.out.push(TreeLine::row(pv, depth + 1, pv.health));
        }
        pvc.health
    }

    /// A pod, and when open its containers and claims. Returns its health.
    fn pod(&mut self, p: &ObjRow, depth: u8) -> Health {
        let mut line = TreeLine::row(p, depth, p.health);
        line.expandable = !p.containers.is_empty() || !p.claims.is_empty();
        line.expanded = line.expandable && self.open(&line.key);
        let open = line.expanded;
        let key = line.key.clone();
        self.out.push(line);
        if open {
            for (i, c) in p.containers.iter().enumerate() {
                let health = if c.ready {
                    Health::Healthy
                } else {
                    p.health.max(Health::Degraded)
                };
                self.out.push(TreeLine {
                    key: key.clone(),
                    item: Item::Container(i),
                    depth: depth + 1,
                    expandable: false,
                    expanded: false,
                    health,
                    counts: None,
                });
            }
            for claim in &p.claims {
                self.claim(&p.namespace, claim, depth + 1);
            }
        }
        p.health
    }

    /// A workload with its pods, Services and snapshots; health rolled up from pods.
    fn workload(&mut self, w: &'a ObjRow, depth: u8) -> Health {
        let ns = w.namespace.as_str();
        let pods: Vec<&ObjRow> = self.pods_of(ns, w.kind(), &w.name).collect();
        let jobs: Vec<&ObjRow> = if w.kind() == Kind::CronJob {
            self.c
                .in_namespace(Kind::Job, ns)
                .filter(|j| {
                    j.owner
                        .as_ref()
                        .is_some_and(|(k, o)| *k == Kind::CronJob && *o == w.name)
                })
                .collect()
        } else {
            Vec::new()
        };
        let services: Vec<&ObjRow> = self
            .c
            .in_namespace(Kind::Service, ns)
            .filter(|s| selects(s, w))
            .collect();
        let claims: Vec<&String> = pods.iter().flat_map(|p| p.claims.iter()).collect();
        let snaps: Vec<&ObjRow> = self
            .c
            .in_namespace(Kind::VolumeSnapshot, ns)
            .filter(|s| s.claims.first().is_some_and(|c| claims.contains(&c)))
            .collect();
        let health = pods
            .iter()
            .chain(&jobs)
            .map(|p| p.health)
            .fold(w.health, Health::max);
        let mut line = TreeLine::row(w, depth, health);
        line.expandable =
            !(pods.is_empty() && jobs.is_empty() && services.is_empty() && snaps.is_empty());
        line.expanded = line.expandable && self.open(&line.key);
        let open = line.expanded;
        self.out.push(line);
        if open {
            for j in jobs {
                self.workload(j, depth + 1);
            }
            for p in pods {
                self.pod(p, depth + 1);
            }
            for s in services.into_iter().chain(snaps) {
                self.out.push(TreeLine::row(s, depth + 1, s.health));
            }
        }
        health
    }

    fn note(&mut self, kind: Kind, ns: &str, depth: u8) {
        let text = match self.c.kinds.get(&kind) {
            Some(KindStatus::Forbidden) => "forbidden",
            Some(KindStatus::NotServed) => "not served by this API server",
            Some(KindStatus::Error(_)) => "watch failing, retrying",
            _ => return,
        };
        let health = if text == "forbidden" {
            Health::Unknown
        } else {
            Health::Degraded
        };
        self.out.push(TreeLine {
            key: (kind, ns.to_string(), String::new()),
            item: Item::Note(text.into()),
            depth,
            expandable: false,
            expanded: false,
            health,
            counts: None,
        });
    }

    fn namespace(&mut self, ns: &'a ObjRow) {
        let name = ns.name.as_str();
        let at = self.out.len();
        let key = ns.key();
        let open = self.open(&key);
        self.out.push(TreeLine {
            expandable: true,
            expanded: open,
            ..TreeLine::row(ns, 0, ns.health)
        });
        let mut worst = ns.health;
        let mut workloads = 0;
        // Children are built even when closed, for the rolled-up health; then dropped.
        for kind in [
            Kind::StatefulSet,
            Kind::Deployment,
            Kind::DaemonSet,
            Kind::CronJob,
            Kind::Job,
        ] {
            for w in self.c.in_namespace(kind, name) {
                if kind == Kind::Job && w.owner.is_some() {
                    continue; // shown under its CronJob
                }
                workloads += 1;
                worst = worst.max(self.workload(w, 1));
            }
        }
        // Pods no workload owns, claims no pod mounts, and namespace config.
        for p in self
            .c
            .in_namespace(Kind::Pod, name)
            .filter(|p| p.owner.is_none())
        {
            worst = worst.max(self.pod(p, 1));
        }
        let mounted: Vec<&String> = self
            .c
            .in_namespace(Kind::Pod, name)
            .flat_map(|p| p.claims.iter())
            .collect();
        for pvc in self
            .c
            .in_namespace(Kind::Pvc, name)
            .filter(|c| !mounted.contains(&&c.name))
        {
            worst = worst.max(self.claim(name, &pvc.name, 1));
        }
        // Services no workload answers: still objects someone may need to see.
        let workloads_here: Vec<&ObjRow> = [Kind::StatefulSet, Kind::Deployment, Kind::DaemonSet]
            .into_iter()
            .flat_map(|k| self.c.in_namespace(k, name))
            .collect();
        for svc in self
            .c
            .in_namespace(Kind::Service, name)
            .filter(|s| !workloads_here.iter().any(|w| selects(s, w)))
        {
            self.out.push(TreeLine::row(svc, 1, svc.health));
        }
        for kind in [Kind::Ingress, Kind::ConfigMap, Kind::Secret] {
            for r in self.c.in_namespace(kind, name) {
                self.out.push(TreeLine::row(r, 1, r.health));
            }
        }
        for kind in Kind::ALL.iter().filter(|k| !k.cluster_scoped()) {
            self.note(*kind, name, 1);
        }
        let pods = self.c.in_namespace(Kind::Pod, name).count();
        self.out[at].health = worst;
        self.out[at].counts = Some((workloads, pods));
        self.out[at].expandable = self.out.len() > at + 1;
        if !open {
            self.out.truncate(at + 1);
        }
    }
}

impl ClusterState {
    /// The lines on screen: the tree, or a flat list of matches while a filter is set.
    pub fn tree(&self) -> Vec<TreeLine> {
        if let Some(f) = parse_filter(&self.filter) {
            return self
                .rows
                .values()
                .filter(|r| {
                    r.kind() != Kind::Namespace
                        && self
                            .namespace
                            .as_ref()
                            .is_none_or(|n| &r.namespace == n || r.namespace.is_empty())
                })
                .filter(|r| f.matches(r))
                .map(|r| TreeLine::row(r, 0, r.health))
                .collect();
        }
        let mut b = Builder {
            c: self,
            out: Vec::new(),
        };
        let namespaces: Vec<&ObjRow> = self
            .in_namespace(Kind::Namespace, "")
            .filter(|r| self.namespace.as_ref().is_none_or(|n| &r.name == n))
            .collect();
        for ns in namespaces {
            b.namespace(ns);
        }
        b.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::cluster::ContainerRow;

    fn row(kind: Kind, ns: &str, name: &str) -> ObjRow {
        ObjRow {
            kind: Some(kind),
            namespace: ns.into(),
            name: name.into(),
            health: Health::Healthy,
            ..Default::default()
        }
    }

    fn labels(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn shop() -> ClusterState {
        let mut c = ClusterState::default();
        let db = ObjRow {
            selector: labels(&[("app", "db"), ("tier", "database")]),
            ..row(Kind::StatefulSet, "shop", "db")
        };
        let pod = ObjRow {
            owner: Some((Kind::StatefulSet, "db".into())),
            claims: vec!["data-db-0".into()],
            containers: vec![ContainerRow {
                name: "mysql".into(),
                ready: false,
                restarts: 3,
                state: "running".into(),
            }],
            health: Health::Degraded,
            ..row(Kind::Pod, "shop", "db-0")
        };
        let pvc = ObjRow {
            claims: vec!["pvc-1".into()],
            detail: "Bound".into(),
            ..row(Kind::Pvc, "shop", "data-db-0")
        };
        let pv = ObjRow {
            volume: "1053729316361843580".into(),
            claims: vec!["shop/data-db-0".into()],
            ..row(Kind::Pv, "", "pvc-1")
        };
        let svc = ObjRow {
            selector: labels(&[("app", "db")]),
            ..row(Kind::Service, "shop", "db")
        };
        let other = ObjRow {
            selector: labels(&[("app", "web")]),
            ..row(Kind::Service, "shop", "web")
        };
        let snap = ObjRow {
            claims: vec!["data-db-0".into()],
            ..row(Kind::VolumeSnapshot, "shop", "db-snap")
        };
        let cj = row(Kind::CronJob, "shop", "backup");
        let job = ObjRow {
            owner: Some((Kind::CronJob, "backup".into())),
            ..row(Kind::Job, "shop", "backup-1")
        };
        let secret = ObjRow {
            keys: vec!["password".into()],
            ..row(Kind::Secret, "shop", "db-credentials")
        };
        for r in [
            row(Kind::Namespace, "", "shop"),
            db,
            pod,
            pvc,
            pv,
            svc,
            other,
            snap,
            cj,
            job,
            secret,
        ] {
            c.rows.insert(r.key(), r);
        }
        c
    }

    fn open(c: &mut ClusterState, kind: Kind, ns: &str, name: &str) {
        c.expanded.insert((kind, ns.into(), name.into()));
    }

    fn names(c: &ClusterState) -> Vec<String> {
        c.tree()
            .iter()
            .map(|l| match &l.item {
                Item::Row => format!(
                    "{}{} {}",
                    "  ".repeat(l.depth as usize),
                    l.key.0.short(),
                    l.key.2
                ),
                Item::Container(i) => format!("{}ctr {i}", "  ".repeat(l.depth as usize)),
                Item::Note(n) => {
                    format!("{}{} {n}", "  ".repeat(l.depth as usize), l.key.0.short())
                }
            })
            .collect()
    }

    #[test]
    fn a_statefulset_shows_pods_containers_and_the_claim_to_volume_chain() {
        let mut c = shop();
        assert_eq!(names(&c), ["ns shop"], "namespaces start closed");
        assert_eq!(
            c.tree()[0].health,
            Health::Degraded,
            "rolled up from the pod"
        );
        assert_eq!(
            c.tree()[0].counts,
            Some((2, 1)),
            "db and the cron job; one pod"
        );
        open(&mut c, Kind::Namespace, "", "shop");
        open(&mut c, Kind::StatefulSet, "shop", "db");
        open(&mut c, Kind::Pod, "shop", "db-0");
        open(&mut c, Kind::Pvc, "shop", "data-db-0");
        open(&mut c, Kind::CronJob, "shop", "backup");
        assert_eq!(
            names(&c),
            [
                "ns shop",
                "  sts db",
                "    pod db-0",
                "      ctr 0",
                "      pvc data-db-0",
                "        pv pvc-1",
                "    svc db",
                "    snap db-snap",
                "  cj backup",
                "    job backup-1",
                // web selects no workload: it stays visible at the namespace level.
                "  svc web",
                "  secret db-credentials",
            ]
        );
        let tree = c.tree();
        assert_eq!(tree[1].health, Health::Degraded);
        assert_eq!(
            tree[3].health,
            Health::Degraded,
            "a container that is not ready"
        );
    }

    #[test]
    fn forbidden_and_unserved_kinds_are_noted_in_the_namespace() {
        let mut c = shop();
        open(&mut c, Kind::Namespace, "", "shop");
        c.kinds.insert(Kind::Secret, KindStatus::Forbidden);
        c.kinds.insert(Kind::VolumeSnapshot, KindStatus::NotServed);
        let n = names(&c);
        assert!(n.contains(&"  secret forbidden".to_string()), "{n:?}");
        assert!(
            n.contains(&"  snap not served by this API server".to_string()),
            "{n:?}"
        );
    }

    #[test]
    fn filters_list_matches_flat() {
        let mut c = shop();
        c.filter = "db".into();
        let n = names(&c);
        assert!(
            n.contains(&"pod db-0".to_string()) && n.contains(&"pvc data-db-0".to_string()),
            "{n:?}"
        );
        assert!(!n.iter().any(|l| l.contains("backup")));
        c.filter = "l:app=db".into();
        assert_eq!(names(&c), ["sts db", "svc db"]);
        c.filter = "s:unhealthy".into();
        assert_eq!(names(&c), ["pod db-0"]);
        c.filter = "s:degraded".into();
        assert_eq!(names(&c), ["pod db-0"]);
    }

    #[test]
    fn filter_parsing() {
        assert_eq!(parse_filter("  "), None);
        assert_eq!(
            parse_filter("l:app=x"),
            Some(Filter::Label("app".into(), "x".into()))
        );
        assert_eq!(
            parse_filter("s:Failed"),
            Some(Filter::State("failed".into()))
        );
        assert_eq!(parse_filter("Web"), Some(Filter::Name("web".into())));
    }
}
