//! Secret values in git diffs: a manifest repository may hold Secrets, and the diff
//! viewer must show which keys changed, never their values.
use std::collections::HashSet;

pub const REDACTED: &str = "(redacted)";

fn indent(l: &str) -> usize {
    l.len() - l.trim_start().len()
}

/// 1-based numbers of the lines holding values of a Secret's `data` or `stringData`.
pub fn secret_lines(text: &str) -> HashSet<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = HashSet::new();
    let mut doc_start = 0;
    for end in (0..=lines.len()).filter(|&i| i == lines.len() || lines[i].starts_with("---")) {
        let doc = &lines[doc_start..end];
        let secret = doc.iter().any(|l| {
            l.strip_prefix("kind:")
                .is_some_and(|k| k.trim().trim_matches(['"', '\'']) == "Secret")
        });
        if secret {
            let mut inside = false;
            for (i, l) in doc.iter().enumerate() {
                let number = doc_start + i + 1;
                if indent(l) == 0 && !l.trim().is_empty() {
                    let key = l.split(':').next().unwrap_or("");
                    inside = key == "data" || key == "stringData";
                    // `data: {a: b}` holds its values on the same line.
                    let rest = l.split_once(':').map_or("", |(_, r)| r.trim());
                    if inside && !rest.is_empty() && !rest.starts_with('#') {
                        out.insert(number);
                    }
                } else if inside && !l.trim().is_empty() {
                    out.insert(number);
                }
            }
        }
        doc_start = end + 1;
    }
    out
}

/// A diff line's text with its value replaced, its key kept.
fn mask(line: &str) -> String {
    match line.split_once(':') {
        Some((key, _)) if !key.trim().is_empty() && !key.contains(['{', '"']) => {
            format!("{key}: {REDACTED}")
        }
        _ => {
            let pad = &line[..indent(line)];
            format!("{pad}{REDACTED}")
        }
    }
}

/// One file's patch text with the old and new files' Secret value lines masked. The
/// hunk headers give the line numbers, as in `git diff`.
pub fn mask_patch(patch: &str, old: &HashSet<usize>, new: &HashSet<usize>) -> String {
    if old.is_empty() && new.is_empty() {
        return patch.to_string();
    }
    let (mut o, mut n) = (0usize, 0usize);
    let mut in_hunk = false;
    let mut out = String::with_capacity(patch.len());
    for raw in patch.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let nl = &raw[line.len()..];
        if let Some(h) = line.strip_prefix("@@ -") {
            let mut nums = h.split([' ', ',', '+']).filter(|s| !s.is_empty());
            o = nums.next().and_then(|x| x.parse().ok()).unwrap_or(0);
            n = line
                .split(" +")
                .nth(1)
                .and_then(|r| r.split([',', ' ']).next())
                .and_then(|x| x.parse().ok())
                .unwrap_or(0);
            in_hunk = true;
            out.push_str(raw);
            continue;
        }
        let (sign, body) = line.split_at(line.len().min(1));
        let hide = in_hunk
            && match sign {
                "+" => new.contains(&n),
                "-" => old.contains(&o),
                " " => new.contains(&n) || old.contains(&o),
                _ => false,
            };
        if in_hunk {
            match sign {
                "+" => n += 1,
                "-" => o += 1,
                " " => {
                    o += 1;
                    n += 1;
                }
                _ => {}
            }
        }
        if hide {
            out.push_str(sign);
            out.push_str(&mask(body));
            out.push_str(nl);
        } else {
            out.push_str(raw);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "\
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2
  user: admin
type: Opaque
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
data:
  level: info
";

    #[test]
    fn only_secret_values_are_found() {
        let mut got: Vec<usize> = secret_lines(SECRET).into_iter().collect();
        got.sort();
        assert_eq!(got, [6, 7], "the ConfigMap's data is not a secret");
        let inline = "kind: Secret\ndata: {password: aHVudGVyMg==}\n";
        assert_eq!(secret_lines(inline), HashSet::from([2]));
    }

    #[test]
    fn a_patch_keeps_keys_and_hides_values_on_both_sides() {
        let old = secret_lines(SECRET);
        let new = secret_lines(&SECRET.replace("hunter2", "correct-horse"));
        let patch = "\
diff --git a/db.yaml b/db.yaml
--- a/db.yaml
+++ b/db.yaml
@@ -4,5 +4,5 @@ metadata:
   name: db
 stringData:
-  password: hunter2
+  password: correct-horse
   user: admin
 type: Opaque
";
        let masked = mask_patch(patch, &old, &new);
        assert!(
            !masked.contains("hunter2") && !masked.contains("correct-horse"),
            "{masked}"
        );
        assert!(!masked.contains("admin"), "{masked}");
        assert!(
            masked.contains("-  password: (redacted)\n+  password: (redacted)\n"),
            "{masked}"
        );
        assert!(masked.contains("   user: (redacted)\n"), "{masked}");
        assert!(masked.contains(" type: Opaque\n") && masked.contains("@@ -4,5 +4,5 @@"));
    }
}
