//! Memory figures of a process from /proc, for the first-frame report and the tests
//! that measure peaks.

/// A `/proc/PID/status` field in KiB (`VmRSS`, `VmHWM`); `pid` may be "self".
pub fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_has_a_resident_size_and_a_peak_at_least_as_big() {
        let rss = super::status_kib("self", "VmRSS").unwrap();
        let peak = super::status_kib("self", "VmHWM").unwrap();
        assert!(rss > 0 && peak >= rss, "{rss} {peak}");
        assert_eq!(super::status_kib("self", "NoSuchField"), None);
    }
}
