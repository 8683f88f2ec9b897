//! Command line and config file, merged into the settings sextant runs with.
//! The command line wins over `~/.config/sextant/config.toml`, which wins over defaults
//! a kubectl user expects (KUBECONFIG or ~/.kube/config, its current context).
use crate::app::keymap::Keymap;
use clap::Parser;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Parser, Debug, Default)]
#[command(
    name = "sextant",
    version,
    about = "A terminal cockpit for GitOps-managed, stateful Kubernetes applications"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<crate::cli::Cmd>,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: its current context)
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// Namespace to show (default: the context's namespace)
    #[arg(short = 'n', long, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Show all namespaces
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// GitOps repository (default: the current directory when it is a git repository)
    #[arg(long, global = true)]
    pub repo: Option<PathBuf>,
    /// Folder inside the repository that holds the manifests
    #[arg(long, global = true)]
    pub path: Option<String>,
    /// The app these manifests are: names the sync record and labels applied objects
    #[arg(long, global = true)]
    pub app: Option<String>,
    /// Prometheus base URL, e.g. http://127.0.0.1:9090
    #[arg(long)]
    pub prometheus: Option<String>,
    /// File holding a bearer token for Prometheus (or set SEXTANT_PROMETHEUS_TOKEN)
    #[arg(long)]
    pub prometheus_token_file: Option<PathBuf>,
    /// Basic auth user for Prometheus; the password comes from --prometheus-password-file
    #[arg(long)]
    pub prometheus_user: Option<String>,
    /// File holding the Prometheus basic auth password
    #[arg(long)]
    pub prometheus_password_file: Option<PathBuf>,
    /// Plain ASCII only: no braille graphs, box-drawing borders or symbols
    #[arg(long)]
    pub ascii: bool,
    /// Colours the terminal shows; auto reads COLORTERM and TERM. NO_COLOR turns colour off
    #[arg(long, value_enum)]
    pub colors: Option<Colors>,
    /// Portworx SDK REST gateway URL, e.g. http://portworx-api:9021
    #[arg(long)]
    pub portworx: Option<String>,
    /// File holding the Portworx bearer token (or set SEXTANT_PORTWORX_TOKEN)
    #[arg(long)]
    pub portworx_token_file: Option<PathBuf>,
    /// No writes: the executor is built without its write capability
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Wall-display mode: read-only, no input needed
    #[arg(long)]
    pub watch: bool,
    /// No mouse capture: clicks and the wheel go to the terminal (its own selection)
    #[arg(long)]
    pub no_mouse: bool,
    /// Theme: dark (default), light, high-contrast, gruvbox-dark, or NAME.toml in
    /// ~/.config/sextant/themes
    #[arg(long)]
    pub theme: Option<String>,
    /// Config file (default: ~/.config/sextant/config.toml)
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Log file (default: ~/.local/state/sextant/sextant.log)
    #[arg(long, global = true)]
    pub log_file: Option<PathBuf>,
    /// Audit log: one JSON line per write (default: ~/.local/state/sextant/audit.log)
    #[arg(long, global = true)]
    pub audit_log: Option<PathBuf>,
    /// Benchmark aid: quit after the first complete frame and print timings
    #[arg(long, hide = true)]
    pub exit_after_first_frame: bool,
}

/// The config file; every key is optional and named as the long flag.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub all_namespaces: Option<bool>,
    pub repo: Option<PathBuf>,
    pub path: Option<String>,
    pub app: Option<String>,
    pub prometheus: Option<String>,
    pub prometheus_token_file: Option<PathBuf>,
    pub prometheus_user: Option<String>,
    pub prometheus_password_file: Option<PathBuf>,
    pub ascii: Option<bool>,
    pub colors: Option<Colors>,
    pub portworx: Option<String>,
    pub portworx_token_file: Option<PathBuf>,
    pub read_only: Option<bool>,
    pub theme: Option<String>,
    /// Mouse capture: clicks select panes and rows, the wheel scrolls (default on).
    pub mouse: Option<bool>,
    pub audit_log: Option<PathBuf>,
    #[serde(default)]
    pub graphs: Vec<GraphSpec>,
    /// `[keys]`: read with its line numbers by `keymap_config::read`, into `keymap`.
    pub keys: Option<toml::Value>,
    /// The keymap with `[keys]` applied, or why it could not be (file, line, key).
    #[serde(skip)]
    pub keymap: Option<Result<Keymap, String>>,
}

/// A metrics graph: a title and a PromQL query; the legend names series by `label`.
#[derive(Deserialize, Debug, Clone, PartialEq)]
pub struct GraphSpec {
    pub title: String,
    pub query: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub unit: Unit,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    #[default]
    None,
    Bytes,
    BytesPerSecond,
    Percent,
    Seconds,
    OpsPerSecond,
}

/// How many colours the terminal shows.
#[derive(clap::ValueEnum, Deserialize, Debug, Clone, Copy, PartialEq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Colors {
    #[default]
    Auto,
    Truecolor,
    #[value(name = "256")]
    #[serde(rename = "256")]
    Ansi256,
    #[value(name = "16")]
    #[serde(rename = "16")]
    Ansi16,
}

impl Colors {
    /// What `auto` means for a terminal: COLORTERM announces 24-bit colour, TERM 256
    /// colours; anything else gets the 16 every terminal has.
    pub fn detect(self, colorterm: Option<&str>, term: Option<&str>) -> Colors {
        if self != Colors::Auto {
            return self;
        }
        match (colorterm, term) {
            (Some("truecolor" | "24bit"), _) => Colors::Truecolor,
            (_, Some(t)) if t.contains("256") => Colors::Ansi256,
            _ => Colors::Ansi16,
        }
    }
}

/// NO_COLOR counts when it is set and not empty (no-color.org).
pub fn no_color(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// Which namespaces to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    All,
    Namespace(String),
    /// The context's namespace, known once the kubeconfig is read.
    FromContext,
}

/// A value that must never be printed or logged.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// An app name goes into a label value and a ConfigMap name: a DNS-1123 label.
pub fn valid_app(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 53
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// How sextant authenticates to Prometheus; the secrets are never shown or logged.
#[derive(Clone, Debug, Default)]
pub enum PromAuth {
    #[default]
    None,
    Bearer(Secret),
    Basic(String, Secret),
}

fn read_secret(what: &str, f: &Path) -> Result<Secret, String> {
    std::fs::read_to_string(f)
        .map(|t| Secret::new(t.trim()))
        .map_err(|e| format!("cannot read {what} {}: {e}", f.display()))
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub scope: Scope,
    pub repo: Option<PathBuf>,
    pub path: Option<String>,
    /// Names the sync record and labels applied objects ("default" unless set).
    pub app: String,
    pub prometheus: Option<String>,
    /// Read at start; an unreadable file is reported by the metrics pane.
    pub prometheus_auth: Result<PromAuth, String>,
    pub ascii: bool,
    pub colors: Colors,
    /// NO_COLOR was set: modifiers only, no colours.
    pub no_color: bool,
    pub portworx: Option<String>,
    /// Read at start; an unreadable token file is reported by the storage pane.
    pub portworx_token: Result<Option<Secret>, String>,
    pub read_only: bool,
    pub watch: bool,
    pub theme: String,
    pub graphs: Vec<GraphSpec>,
    /// The defaults, or with the config file's `[keys]` applied.
    pub keymap: Keymap,
    /// A config mistake that did not stop sextant (a bad `[keys]`), for the status bar.
    pub config_problem: Option<String>,
    pub mouse: bool,
    pub log_file: PathBuf,
    /// Where every write is recorded, one JSON line each.
    pub audit_log: PathBuf,
    pub exit_after_first_frame: bool,
}

pub fn config_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|h| h.join(".config")))
        .map(|d| d.join("sextant"))
}

fn state_dir() -> PathBuf {
    std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|h| h.join(".local/state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("sextant")
}

/// Reads the config file; a missing default file is fine, a named one must exist.
pub fn read_file_config(explicit: Option<&Path>) -> Result<FileConfig, String> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match config_dir().map(|d| d.join("config.toml")) {
            Some(p) if p.exists() => p,
            _ => return Ok(FileConfig::default()),
        },
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
    let mut file =
        parse_file_config(&text).map_err(|e| format!("config {}: {e}", path.display()))?;
    file.keymap = crate::app::keymap_config::read(&path, &text);
    Ok(file)
}

pub fn parse_file_config(text: &str) -> Result<FileConfig, String> {
    toml::from_str(text).map_err(|e| e.to_string().lines().collect::<Vec<_>>().join(" "))
}

/// The graphs shown when the config names none: Portworx volume IO and usage.
/// Panels when the config file sets none. `$namespace`, `$pod` and `$volume` are
/// regular expressions for the selection in the cluster or storage pane (`.*` for all);
/// CPU and memory appear when Prometheus has cAdvisor metrics.
pub fn default_graphs() -> Vec<GraphSpec> {
    let g = |title: &str, query: &str, label: &str, unit| GraphSpec {
        title: title.into(),
        query: query.into(),
        label: Some(label.into()),
        unit,
    };
    let vol = r#"{volumename=~"$volume"}"#;
    vec![
        g(
            "Volume writes",
            &format!("max by (volumename) (px_volume_writethroughput{vol})"),
            "volumename",
            Unit::BytesPerSecond,
        ),
        g(
            "Volume usage",
            &format!(
                "100 * max by (volumename) (px_volume_usage_bytes{vol}) / max by (volumename) (px_volume_capacity_bytes{vol})"
            ),
            "volumename",
            Unit::Percent,
        ),
        // The deprecated name is still what older Portworx releases export.
        g(
            "Volume write latency",
            &format!(
                "max by (volumename) (px_volume_write_latency_seconds{vol} or px_volume_vol_write_latency_seconds{vol})"
            ),
            "volumename",
            Unit::Seconds,
        ),
        g(
            "Volume IOPS",
            &format!("max by (volumename) (px_volume_iops{vol})"),
            "volumename",
            Unit::OpsPerSecond,
        ),
        g(
            "Volume reads",
            &format!("max by (volumename) (px_volume_readthroughput{vol})"),
            "volumename",
            Unit::BytesPerSecond,
        ),
        g(
            "Prometheus targets up",
            "sum by (job) (up)",
            "job",
            Unit::None,
        ),
    ]
}

/// Workload panels, used when Prometheus has cAdvisor's metrics.
pub fn cadvisor_graphs() -> Vec<GraphSpec> {
    let sel = r#"{namespace=~"$namespace",pod=~"$pod",container!=""}"#;
    vec![
        GraphSpec {
            title: "CPU".into(),
            query: format!("sum by (pod) (rate(container_cpu_usage_seconds_total{sel}[5m]))"),
            label: Some("pod".into()),
            unit: Unit::None,
        },
        GraphSpec {
            title: "Memory".into(),
            query: format!("sum by (pod) (container_memory_working_set_bytes{sel})"),
            label: Some("pod".into()),
            unit: Unit::Bytes,
        },
    ]
}

fn is_git_repo(dir: &Path) -> bool {
    git2::Repository::discover(dir).is_ok()
}

impl Settings {
    pub fn resolve(cli: Cli, file: FileConfig) -> Settings {
        let scope = if cli.all_namespaces
            || (cli.namespace.is_none() && file.all_namespaces == Some(true))
        {
            Scope::All
        } else if let Some(ns) = cli.namespace.or(file.namespace) {
            if ns == "all" {
                Scope::All
            } else {
                Scope::Namespace(ns)
            }
        } else {
            Scope::FromContext
        };
        let repo = cli
            .repo
            .or(file.repo)
            .or_else(|| std::env::current_dir().ok().filter(|d| is_git_repo(d)));
        let token_file = cli.portworx_token_file.or(file.portworx_token_file);
        let portworx_token = match (token_file, std::env::var("SEXTANT_PORTWORX_TOKEN")) {
            (Some(f), _) => std::fs::read_to_string(&f)
                .map(|t| Some(Secret::new(t.trim())))
                .map_err(|e| format!("cannot read Portworx token file {}: {e}", f.display())),
            (None, Ok(t)) if !t.trim().is_empty() => Ok(Some(Secret::new(t.trim()))),
            _ => Ok(None),
        };
        let prom_token = cli.prometheus_token_file.or(file.prometheus_token_file);
        let prom_user = cli.prometheus_user.or(file.prometheus_user);
        let prom_pass = cli
            .prometheus_password_file
            .or(file.prometheus_password_file);
        let prometheus_auth = match (prom_token, prom_user, prom_pass) {
            (Some(f), _, _) => read_secret("Prometheus token file", &f).map(PromAuth::Bearer),
            (None, Some(u), Some(f)) => {
                read_secret("Prometheus password file", &f).map(|p| PromAuth::Basic(u, p))
            }
            (None, Some(_), None) => {
                Err("--prometheus-user needs --prometheus-password-file".to_string())
            }
            _ => match std::env::var("SEXTANT_PROMETHEUS_TOKEN") {
                Ok(t) if !t.trim().is_empty() => Ok(PromAuth::Bearer(Secret::new(t.trim()))),
                _ => Ok(PromAuth::None),
            },
        };
        let watch = cli.watch;
        let (keymap, config_problem) = match file.keymap {
            Some(Ok(k)) => (k, None),
            Some(Err(e)) => (Keymap::default(), Some(e)),
            None => (Keymap::default(), None),
        };
        Settings {
            kubeconfig: cli.kubeconfig.or(file.kubeconfig),
            context: cli.context.or(file.context),
            scope,
            repo,
            path: cli.path.or(file.path),
            app: cli.app.or(file.app).unwrap_or_else(|| "default".into()),
            prometheus: cli.prometheus.or(file.prometheus),
            prometheus_auth,
            ascii: cli.ascii || file.ascii == Some(true),
            colors: cli.colors.or(file.colors).unwrap_or_default().detect(
                std::env::var("COLORTERM").ok().as_deref(),
                std::env::var("TERM").ok().as_deref(),
            ),
            no_color: no_color(std::env::var("NO_COLOR").ok().as_deref()),
            portworx: cli.portworx.or(file.portworx),
            portworx_token,
            read_only: cli.read_only || watch || file.read_only == Some(true),
            watch,
            theme: cli.theme.or(file.theme).unwrap_or_else(|| "dark".into()),
            graphs: if file.graphs.is_empty() {
                default_graphs()
            } else {
                file.graphs
            },
            keymap,
            config_problem,
            // A wall display takes no input but `q`: the terminal keeps its mouse.
            mouse: !cli.no_mouse && !watch && file.mouse != Some(false),
            log_file: cli
                .log_file
                .unwrap_or_else(|| state_dir().join("sextant.log")),
            audit_log: cli
                .audit_log
                .or(file.audit_log)
                .unwrap_or_else(|| state_dir().join("audit.log")),
            exit_after_first_frame: cli.exit_after_first_frame,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_wins_over_file() {
        let file = parse_file_config(
            "namespace = \"shop\"\nprometheus = \"http://p:9090\"\nread_only = true",
        )
        .unwrap();
        let cli = Cli::parse_from(["sextant", "-n", "db", "--repo", "/tmp"]);
        let s = Settings::resolve(cli, file);
        assert_eq!(s.scope, Scope::Namespace("db".into()));
        assert_eq!(s.prometheus.as_deref(), Some("http://p:9090"));
        assert!(s.read_only);
        assert_eq!(s.graphs, default_graphs());
    }

    #[test]
    fn the_audit_log_comes_from_the_flag_then_the_file() {
        let file = parse_file_config("audit_log = \"/var/log/sextant/audit.log\"").unwrap();
        let s = Settings::resolve(Cli::parse_from(["sextant", "--repo", "/tmp"]), file);
        assert_eq!(s.audit_log, PathBuf::from("/var/log/sextant/audit.log"));
        let file = parse_file_config("audit_log = \"/var/log/sextant/audit.log\"").unwrap();
        let cli = Cli::parse_from(["sextant", "--audit-log", "/tmp/a.log", "--repo", "/tmp"]);
        assert_eq!(
            Settings::resolve(cli, file).audit_log,
            PathBuf::from("/tmp/a.log")
        );
        let s = Settings::resolve(
            Cli::parse_from(["sextant", "--repo", "/tmp"]),
            FileConfig::default(),
        );
        assert!(
            s.audit_log.ends_with("sextant/audit.log"),
            "{:?}",
            s.audit_log
        );
    }

    #[test]
    fn all_namespaces_and_watch_imply_scope_and_read_only() {
        let s = Settings::resolve(
            Cli::parse_from(["sextant", "-A", "--watch", "--repo", "/tmp"]),
            FileConfig::default(),
        );
        assert_eq!(s.scope, Scope::All);
        assert!(s.read_only);
        let s = Settings::resolve(
            Cli::parse_from(["sextant", "-n", "all", "--repo", "/tmp"]),
            FileConfig::default(),
        );
        assert_eq!(s.scope, Scope::All);
    }

    #[test]
    fn unknown_keys_and_bad_toml_are_reported() {
        assert!(
            parse_file_config("namespcae = \"x\"")
                .unwrap_err()
                .contains("namespcae")
        );
        assert!(parse_file_config("namespace = ").is_err());
        let g = parse_file_config("[[graphs]]\ntitle = \"t\"\nquery = \"up\"\nunit = \"bytes\"")
            .unwrap();
        assert_eq!(g.graphs[0].unit, Unit::Bytes);
    }

    #[test]
    fn colours_come_from_the_flag_the_file_or_the_terminal() {
        let file = parse_file_config("colors = \"16\"").unwrap();
        assert_eq!(file.colors, Some(Colors::Ansi16));
        let cli = Cli::parse_from(["sextant", "--colors", "256", "--repo", "/tmp"]);
        assert_eq!(Settings::resolve(cli, file).colors, Colors::Ansi256);
        let auto = Colors::Auto;
        assert_eq!(
            auto.detect(Some("truecolor"), Some("xterm")),
            Colors::Truecolor
        );
        assert_eq!(auto.detect(Some("24bit"), None), Colors::Truecolor);
        assert_eq!(auto.detect(None, Some("xterm-256color")), Colors::Ansi256);
        assert_eq!(auto.detect(None, Some("linux")), Colors::Ansi16);
        assert_eq!(auto.detect(None, None), Colors::Ansi16);
        assert_eq!(
            Colors::Ansi16.detect(Some("truecolor"), None),
            Colors::Ansi16
        );
        assert!(Cli::try_parse_from(["sextant", "--colors", "8"]).is_err());
    }

    #[test]
    fn no_color_needs_a_value() {
        assert!(no_color(Some("1")));
        assert!(!no_color(Some("")));
        assert!(!no_color(None));
    }

    #[test]
    fn theme_help_lists_the_bundled_themes() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        for (name, _) in crate::ui::theme::BUNDLED {
            assert!(help.contains(name), "{help}");
        }
    }

    #[test]
    fn the_mouse_is_on_unless_turned_off() {
        let on = Settings::resolve(
            Cli::parse_from(["sextant", "--repo", "/tmp"]),
            FileConfig::default(),
        );
        assert!(on.mouse);
        let off = Settings::resolve(
            Cli::parse_from(["sextant", "--repo", "/tmp"]),
            parse_file_config("mouse = false").unwrap(),
        );
        assert!(!off.mouse);
        let off = Settings::resolve(
            Cli::parse_from(["sextant", "--no-mouse", "--repo", "/tmp"]),
            FileConfig::default(),
        );
        assert!(!off.mouse);
        let watch = Settings::resolve(
            Cli::parse_from(["sextant", "--watch", "--repo", "/tmp"]),
            FileConfig::default(),
        );
        assert!(!watch.mouse);
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("tok")), "Secret(***)");
    }
}
