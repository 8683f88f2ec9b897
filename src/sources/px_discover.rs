//! Finding Portworx through the cluster: the SDK REST gateway from Service
//! `portworx-api`, and a bearer token from the operator's Secrets. Whatever is given
//! (`--portworx`, a token file or the env var) wins; only the missing part is looked up.
//! Tokens are wrapped in `Secret` as soon as they are read and never appear in messages.
use super::kube::one_line;
use super::portworx::PxClient;
use crate::config::{Scope, Secret};
use k8s_openapi::api::core::v1::{Secret as KubeSecret, Service};
use kube::api::{Api, ListParams};
use std::path::PathBuf;

pub const SERVICE: &str = "portworx-api";
/// Where the Portworx operator is usually installed.
pub const NAMESPACES: [&str; 2] = ["portworx", "kube-system"];
const PORT_NAME: &str = "px-rest-gateway";
const PORT: i32 = 9021;
const TOKEN_KEY: &str = "auth-token";

/// The gateway URL a Service offers: the `px-rest-gateway` port (else 9021) on the
/// load balancer's address, else the first external IP, else the cluster IP (which
/// only answers from inside the cluster).
pub fn endpoint(svc: &Service) -> Option<String> {
    let spec = svc.spec.as_ref();
    let port = spec
        .and_then(|s| s.ports.as_ref())
        .and_then(|ps| ps.iter().find(|p| p.name.as_deref() == Some(PORT_NAME)))
        .map_or(PORT, |p| p.port);
    let ingress = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .and_then(|i| i.first())
        .and_then(|i| i.ip.clone().or_else(|| i.hostname.clone()));
    let addr = ingress
        .or_else(|| spec.and_then(|s| s.external_ips.as_ref()?.first().cloned()))
        .or_else(|| spec.and_then(|s| s.cluster_ip.clone()))
        .filter(|a| !a.is_empty() && a != "None")?;
    Some(if addr.contains(':') {
        format!("http://[{addr}]:{port}")
    } else {
        format!("http://{addr}:{port}")
    })
}

/// Which token Secrets to try, in order. With writes allowed the admin token comes
/// first, because a restore needs Write access on every volume; read-only prefers the
/// user token and falls back to admin, since the executor cannot write anyway.
pub fn token_secrets(read_only: bool) -> [&'static str; 2] {
    if read_only {
        ["px-user-token", "px-admin-token"]
    } else {
        ["px-admin-token", "px-user-token"]
    }
}

/// Finds Service `portworx-api`: in `only` when given, else in any namespace the
/// caller may list, else in the usual Portworx namespaces. Returns its namespace too.
pub async fn find_service(
    client: &kube::Client,
    only: Option<&str>,
) -> Result<(String, Service), String> {
    let get = |ns: &str| {
        let api: Api<Service> = Api::namespaced(client.clone(), ns);
        async move { api.get_opt(SERVICE).await }
    };
    if let Some(ns) = only {
        return match get(ns).await {
            Ok(Some(s)) => Ok((ns.to_string(), s)),
            Ok(None) => Err(format!(
                "no Portworx: pass --portworx URL, or create Service {SERVICE} (none in namespace {ns})"
            )),
            Err(e) => Err(format!("cannot read Service {ns}/{SERVICE}: {}", why(&e))),
        };
    }
    let lp = ListParams::default().fields(&format!("metadata.name={SERVICE}"));
    let listed = Api::<Service>::all(client.clone()).list(&lp).await;
    let cannot_list = match listed {
        Ok(l) => {
            return l
                .items
                .into_iter()
                .find_map(|s| Some((s.metadata.namespace.clone()?, s)))
                .ok_or_else(|| {
                    format!(
                        "no Portworx: pass --portworx URL, or create Service {SERVICE} (none found in any namespace)"
                    )
                });
        }
        Err(e) => why(&e),
    };
    // Listing every namespace may be forbidden; the usual ones may still be readable.
    let mut tried = Vec::new();
    for ns in NAMESPACES {
        match get(ns).await {
            Ok(Some(s)) => return Ok((ns.to_string(), s)),
            Ok(None) => tried.push(format!("none in {ns}")),
            Err(e) => tried.push(format!("{ns}: {}", why(&e))),
        }
    }
    Err(format!(
        "no Portworx: pass --portworx URL, or create Service {SERVICE} (cannot list Services: {cannot_list}; {})",
        tried.join("; ")
    ))
}

/// The token from the operator's Secrets in `namespaces`. None when no Secret exists
/// (auth may be off); an error when one exists but cannot be read, so the pane says
/// why instead of polling as a guest.
pub async fn find_token(
    client: &kube::Client,
    namespaces: &[&str],
    read_only: bool,
) -> Result<Option<Secret>, String> {
    let mut refused = Vec::new();
    for ns in namespaces {
        let api: Api<KubeSecret> = Api::namespaced(client.clone(), ns);
        for name in token_secrets(read_only) {
            match api.get_opt(name).await {
                Ok(Some(s)) => {
                    let token = s
                        .data
                        .and_then(|mut d| d.remove(TOKEN_KEY))
                        .map(|b| Secret::new(String::from_utf8_lossy(&b.0).trim()));
                    match token {
                        Some(t) => return Ok(Some(t)),
                        None => refused.push(format!("Secret {ns}/{name} has no key {TOKEN_KEY}")),
                    }
                }
                Ok(None) => {}
                Err(e) => refused.push(format!("cannot read Secret {ns}/{name}: {}", why(&e))),
            }
        }
    }
    if refused.is_empty() {
        Ok(None)
    } else {
        Err(format!(
            "{}; pass --portworx-token-file FILE or set SEXTANT_PORTWORX_TOKEN",
            refused.join("; ")
        ))
    }
}

/// A client for the gateway, looking up in the cluster what `url` and `token` leave
/// out. `only` limits the search to one namespace.
pub async fn discover(
    client: &kube::Client,
    url: Option<&str>,
    token: Option<Secret>,
    read_only: bool,
    only: Option<&str>,
) -> Result<PxClient, String> {
    if let (Some(u), Some(t)) = (url, &token) {
        return PxClient::new(u, Some(t.clone()));
    }
    let found = find_service(client, only).await;
    let url = match (url, &found) {
        (Some(u), _) => u.to_string(),
        (None, Ok((ns, s))) => endpoint(s)
            .ok_or_else(|| format!("Service {ns}/{SERVICE} has no address; pass --portworx URL"))?,
        (None, Err(e)) => return Err(e.clone()),
    };
    let token = match token {
        Some(t) => Some(t),
        None => {
            let home: Vec<&str> = match (&found, only) {
                (Ok((ns, _)), _) => vec![ns.as_str()],
                (Err(_), Some(ns)) => vec![ns],
                (Err(_), None) => NAMESPACES.to_vec(),
            };
            find_token(client, &home, read_only).await?
        }
    };
    PxClient::new(&url, token)
}

/// What the poller needs to look Portworx up: its own connection to the cluster the
/// user started in (a later context switch does not move the storage pane).
#[derive(Clone, Debug, Default)]
pub struct Find {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub read_only: bool,
}

impl Find {
    /// The client, connecting to the cluster only when something is missing.
    pub async fn client(
        &self,
        url: Option<&str>,
        token: Option<Secret>,
    ) -> Result<PxClient, String> {
        if let (Some(u), Some(t)) = (url, &token) {
            return PxClient::new(u, Some(t.clone()));
        }
        let c = super::kube::connect(
            self.kubeconfig.as_ref(),
            self.context.as_deref(),
            &Scope::FromContext,
        )
        .await;
        match (c, url) {
            (Ok(c), _) => discover(&c.client, url, token, self.read_only, None).await,
            // Without the cluster, a given URL is still tried as a guest, as before.
            (Err(_), Some(u)) => PxClient::new(u, None),
            (Err(e), None) => Err(format!(
                "no Portworx: cannot look for it in the cluster: {e}"
            )),
        }
    }
}

/// An API error in a few words: "forbidden" rather than the server's paragraph.
fn why(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 403 => "forbidden".into(),
        kube::Error::Api(s) => format!("{} ({})", s.message, s.code),
        e => one_line(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc(v: serde_json::Value) -> Service {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_gateway_port_is_found_by_name() {
        let s = svc(json!({"spec": {"clusterIP": "10.0.0.7", "ports": [
            {"name": "px-api", "port": 9001},
            {"name": "px-rest-gateway", "port": 19021}]}}));
        assert_eq!(endpoint(&s).as_deref(), Some("http://10.0.0.7:19021"));
    }

    #[test]
    fn without_a_named_port_9021_is_assumed() {
        let s = svc(json!({"spec": {"clusterIP": "10.0.0.7", "ports": [{"port": 80}]}}));
        assert_eq!(endpoint(&s).as_deref(), Some("http://10.0.0.7:9021"));
    }

    #[test]
    fn the_load_balancer_wins_then_external_ips_then_the_cluster_ip() {
        let lb = svc(json!({
            "spec": {"clusterIP": "10.0.0.7", "externalIPs": ["192.0.2.1"]},
            "status": {"loadBalancer": {"ingress": [{"hostname": "px.example.com"}]}}}));
        assert_eq!(endpoint(&lb).as_deref(), Some("http://px.example.com:9021"));
        let ext = svc(
            json!({"spec": {"clusterIP": "10.0.0.7", "externalIPs": ["192.0.2.1"]},
            "status": {"loadBalancer": {}}}),
        );
        assert_eq!(endpoint(&ext).as_deref(), Some("http://192.0.2.1:9021"));
        let v6 = svc(json!({"spec": {"clusterIP": "fd00::7"}}));
        assert_eq!(endpoint(&v6).as_deref(), Some("http://[fd00::7]:9021"));
    }

    #[test]
    fn a_headless_service_has_no_address() {
        assert_eq!(endpoint(&svc(json!({"spec": {"clusterIP": "None"}}))), None);
        assert_eq!(endpoint(&svc(json!({}))), None);
    }

    #[tokio::test]
    async fn a_given_url_and_token_need_no_cluster() {
        // A kubeconfig that does not exist would fail any connection attempt.
        let find = Find {
            kubeconfig: Some("/nonexistent/kubeconfig".into()),
            ..Find::default()
        };
        let px = find
            .client(Some("http://px:9021/"), Some(Secret::new("t")))
            .await
            .unwrap();
        assert_eq!(px.base(), "http://px:9021");
        // Without a cluster, a given URL is still tried, without a token.
        assert!(find.client(Some("http://px:9021"), None).await.is_ok());
        let e = find.client(None, None).await.err().unwrap();
        assert!(
            e.starts_with(
                "no Portworx: cannot look for it in the cluster: kubeconfig /nonexistent/kubeconfig"
            ),
            "{e}"
        );
    }

    #[test]
    fn writes_prefer_the_admin_token_and_read_only_the_user_token() {
        assert_eq!(token_secrets(false), ["px-admin-token", "px-user-token"]);
        assert_eq!(token_secrets(true), ["px-user-token", "px-admin-token"]);
    }
}
