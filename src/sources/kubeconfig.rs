//! Checks a kubeconfig's references before connecting, so a wrong context, cluster or
//! user is one message naming the field, not a failure deep in the client.
use kube::config::Kubeconfig;

/// What a usable context points at.
#[derive(Debug, PartialEq)]
pub struct Target {
    pub context: String,
    pub user: Option<String>,
    /// The exec plugin's command, when the user authenticates through one.
    pub exec: Option<String>,
}

/// The context to use (`wanted`, else current-context) and what it names, or which
/// field is wrong.
pub fn target(kc: &Kubeconfig, wanted: Option<&str>) -> Result<Target, String> {
    let (name, from) = match (wanted, kc.current_context.as_deref()) {
        (Some(w), _) => (w, "--context"),
        (None, Some(c)) if !c.is_empty() => (c, "current-context"),
        _ => return Err("current-context is not set and no --context was given".into()),
    };
    let names = |it: &mut dyn Iterator<Item = &String>| {
        let v: Vec<&str> = it.map(String::as_str).collect();
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let ctx = kc.contexts.iter().find(|c| c.name == name).ok_or_else(|| {
        format!(
            "{from} names context \"{name}\", which is not in contexts (there: {})",
            names(&mut kc.contexts.iter().map(|c| &c.name))
        )
    })?;
    let Some(c) = &ctx.context else {
        return Err(format!("contexts[{name}].context is empty"));
    };
    if !kc.clusters.iter().any(|k| k.name == c.cluster) {
        return Err(format!(
            "contexts[{name}].context.cluster names \"{}\", which is not in clusters (there: {})",
            c.cluster,
            names(&mut kc.clusters.iter().map(|k| &k.name))
        ));
    }
    let mut exec = None;
    if let Some(user) = &c.user {
        let u = kc.auth_infos.iter().find(|a| &a.name == user).ok_or_else(|| {
            format!(
                "contexts[{name}].context.user names \"{user}\", which is not in users (there: {})",
                names(&mut kc.auth_infos.iter().map(|a| &a.name))
            )
        })?;
        exec = u
            .auth_info
            .as_ref()
            .and_then(|a| a.exec.as_ref())
            .map(|e| e.command.clone().unwrap_or_default());
    }
    Ok(Target {
        context: name.to_string(),
        user: c.user.clone(),
        exec,
    })
}

/// The key on the line a parse error names ("... line 2 column 11 ..."), never its
/// value, which can be a token.
pub fn field_at(text: &str, error: &str) -> Option<String> {
    let n: usize = error
        .split("line ")
        .nth(1)?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let line = text.lines().nth(n.checked_sub(1)?)?;
    let key = line
        .split(':')
        .next()?
        .trim()
        .trim_start_matches("- ")
        .trim();
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.".contains(c));
    plain.then(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parse_error_names_the_key_of_its_line_but_never_a_value() {
        let text = "apiVersion: v1\ncontexts: 5\nusers:\n- token: s3cret\n";
        let at = |e: &str| field_at(text, e);
        assert_eq!(
            at("error: line 2 column 11: expected").as_deref(),
            Some("contexts")
        );
        assert_eq!(at("line 4 column 3: bad").as_deref(), Some("token"));
        assert_eq!(at("no position"), None);
        assert_eq!(at("line 9 column 1"), None);
        assert_eq!(field_at("[oops", "line 1 column 1"), None);
    }

    fn kc(yaml: &str) -> Kubeconfig {
        Kubeconfig::from_yaml(yaml).unwrap()
    }

    const GOOD: &str = "
current-context: demo
contexts:
- name: demo
  context: {cluster: local, user: admin}
- name: sso
  context: {cluster: local, user: oidc}
clusters:
- name: local
  cluster: {server: https://127.0.0.1:6443}
users:
- name: admin
  user: {token: abc}
- name: oidc
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin}
";

    #[test]
    fn the_current_or_named_context_and_its_exec_plugin() {
        let k = kc(GOOD);
        let t = target(&k, None).unwrap();
        assert_eq!((t.context.as_str(), t.exec), ("demo", None));
        let t = target(&k, Some("sso")).unwrap();
        assert_eq!(t.exec.as_deref(), Some("kubelogin"));
        assert_eq!(t.user.as_deref(), Some("oidc"));
    }

    #[test]
    fn a_missing_context_cluster_or_user_names_the_field() {
        let k = kc(GOOD);
        let e = target(&k, Some("prod")).unwrap_err();
        assert_eq!(
            e,
            "--context names context \"prod\", which is not in contexts (there: demo, sso)"
        );
        let k = kc(&GOOD.replace("current-context: demo", "current-context: gone"));
        assert!(
            target(&k, None)
                .unwrap_err()
                .starts_with("current-context names")
        );
        let k = kc(&GOOD.replace(
            "{cluster: local, user: admin}",
            "{cluster: far, user: admin}",
        ));
        assert_eq!(
            target(&k, None).unwrap_err(),
            "contexts[demo].context.cluster names \"far\", which is not in clusters (there: local)"
        );
        let k = kc(&GOOD.replace(
            "{cluster: local, user: admin}",
            "{cluster: local, user: root}",
        ));
        assert!(
            target(&k, None)
                .unwrap_err()
                .starts_with("contexts[demo].context.user names \"root\""),
        );
        let k = kc(&GOOD.replace("current-context: demo", ""));
        assert!(
            target(&k, None)
                .unwrap_err()
                .contains("current-context is not set")
        );
    }
}
