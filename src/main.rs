use clap::Parser;
use sextant::config::{Cli, Settings, read_file_config};
use sextant::ui::theme::Theme;
use std::process::ExitCode;

/// Logs go to a file: the terminal belongs to the UI.
fn init_logging(path: &std::path::Path) -> Result<(), String> {
    let dir = path.parent().ok_or("log file has no folder")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open log {}: {e}", path.display()))?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SEXTANT_LOG")
                .unwrap_or_else(|_| "info,kube=warn,hyper=warn".into()),
        )
        // Known tokens are masked in every line, whatever quotes them.
        .with_writer(std::sync::Mutex::new(sextant::scrub::Writer(file)))
        .with_ansi(false)
        .init();
    Ok(())
}

fn peak_rss_kib() -> Option<u64> {
    sextant::memory::status_kib("self", "VmHWM")
}

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    let command = cli.command.take();
    let file = match read_file_config(cli.config.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("sextant: {e}");
            return ExitCode::from(2);
        }
    };
    let settings = Settings::resolve(cli, file);
    if !sextant::config::valid_app(&settings.app) {
        eprintln!(
            "sextant: --app {:?}: use lower-case letters, digits and '-' (at most 53)",
            settings.app
        );
        return ExitCode::from(2);
    }
    sextant::scrub::remember_settings(&settings);
    if let Err(e) = init_logging(&settings.log_file) {
        eprintln!("sextant: {e}");
        return ExitCode::from(2);
    }
    let theme = match Theme::load(&settings.theme) {
        Ok(t) if settings.no_color => t.without_colour(),
        Ok(t) => t.downgrade(settings.colors),
        Err(e) => {
            eprintln!("sextant: {e}");
            return ExitCode::from(2);
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bench = settings.exit_after_first_frame;
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sextant: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(cmd) = command {
        let code = rt.block_on(sextant::cli::run(cmd, &settings));
        rt.shutdown_timeout(std::time::Duration::from_millis(200));
        return ExitCode::from(code);
    }
    match rt.block_on(sextant::run::run(settings, theme)) {
        Ok(report) => {
            if bench {
                let ms = report
                    .first_complete_frame
                    .map_or(-1, |d| d.as_millis() as i64);
                println!(
                    "first_complete_frame_ms={ms} peak_rss_kib={}",
                    peak_rss_kib().unwrap_or(0)
                );
            }
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sextant: {e:#}");
            ExitCode::FAILURE
        }
    }
}
