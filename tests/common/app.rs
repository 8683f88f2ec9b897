//! A GitOps repository (a clone of a bare remote) whose manifests live in one namespace
//! and one app of their own, and a target on the environment's cluster. Test files add
//! the methods only they need in their own `impl Fixture`.
use super::{env, git, init_crypto, repo_with_remote, unique};
use serde_json::{Value, json};
use sextant::config::Scope;
use sextant::engine::manifests;
use sextant::engine::plan::{Plan, plan};
use sextant::engine::target::Target;
use std::path::PathBuf;

pub struct Fixture {
    pub dir: PathBuf,
    pub ns: String,
    pub app: String,
    pub target: Target,
    pub client: kube::Client,
}

impl Fixture {
    pub async fn new(prefix: &str) -> Fixture {
        init_crypto();
        let id = unique();
        let root = std::env::temp_dir().join(format!("sextant-{prefix}-{id}"));
        let (_, work) = repo_with_remote(&root);
        let kubeconfig = PathBuf::from(env("SEXTANT_TEST_KUBECONFIG"));
        let c = sextant::sources::kube::connect(Some(&kubeconfig), None, &Scope::FromContext)
            .await
            .unwrap();
        let ns = format!("{prefix}-{id}");
        Fixture {
            dir: work,
            target: Target::new(c.client.clone(), ns.clone()),
            client: c.client,
            app: ns.clone(),
            ns,
        }
    }

    /// Writes `file` with every `NS` replaced by the namespace.
    pub fn write(&self, file: &str, text: &str) {
        let p = self.dir.join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text.replace("NS", &self.ns)).unwrap();
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.dir.join(file)).unwrap();
    }

    /// Commits everything, pushes, and returns the new HEAD.
    pub fn commit(&self, message: &str) -> String {
        git(&self.dir, &["add", "-A"]);
        git(&self.dir, &["commit", "-q", "-m", message]);
        git(&self.dir, &["push", "-q", "origin", "main"]);
        git(&self.dir, &["rev-parse", "HEAD"])
    }

    pub fn repo(&self) -> git2::Repository {
        git2::Repository::open(&self.dir).unwrap()
    }

    pub async fn plan(&self, rev: &str) -> Plan {
        let m = manifests::read(&self.repo(), rev, "").unwrap();
        plan(&self.target, &m, "", &self.app).await
    }

    pub async fn get(&self, api_version: &str, kind: &str, name: &str) -> Option<Value> {
        let obj = json!({"apiVersion": api_version, "kind": kind,
                         "metadata": {"name": name, "namespace": self.ns}});
        let l = self.target.locate(&obj).await.unwrap();
        self.target.get(&l).await.unwrap()
    }
}
