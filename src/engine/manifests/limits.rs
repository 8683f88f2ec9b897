//! What reading one commit's manifests may cost, so a huge file or an alias bomb in
//! git is refused with its name instead of taking the machine's memory.
//!
//! serde_yaml stops exponential alias bombs (its repetition limit), but not
//! quadratic ones: an anchor of 1,000 values referenced 10,000 times passes it and
//! expands to 10 million values (a 52 KB file took 1 GB). So every document is first
//! walked without building anything, counting its values with aliases expanded.
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess};
use serde::de::{VariantAccess, Visitor};
use std::cell::Cell;
use std::fmt;

const MIB: u64 = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// All manifest files of a commit together (Argo CD's default for a directory app).
    pub commit_bytes: u64,
    /// One document: the API server refuses request bodies over 3 MiB.
    pub document_bytes: usize,
    /// Values of all documents of a commit, aliases expanded.
    pub values: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        commit_bytes: 10 * MIB,
        document_bytes: 3 * MIB as usize,
        // A realistic 10 MiB of Deployments and CRDs has under 1 million.
        values: 1_500_000,
    };
}

/// "20.0 MiB", "512 KiB", "300 bytes".
pub fn size(bytes: u64) -> String {
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= 1024 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Values a document may expand to through aliases: twice as many as its text could
/// hold without any (a value takes at least one character), plus room for merge keys.
pub fn alias_budget(document_len: usize) -> usize {
    document_len.saturating_mul(2).saturating_add(10_000)
}

/// Why counting stopped.
#[derive(Debug)]
pub enum Count {
    /// More values than `limit`: nothing was built.
    Over { limit: usize },
    /// The YAML itself is wrong; the real parse reports it with its line.
    Yaml(serde_yaml::Error),
}

/// Counts a document's values (aliases expanded) without building them, stopping at
/// `limit`. Memory is the parser's events for the document, never the expansion.
pub fn count_values(text: &str, limit: usize) -> Result<usize, Count> {
    let n = Cell::new(0);
    let over = Cell::new(false);
    let counter = Counter {
        n: &n,
        over: &over,
        limit,
    };
    match counter.deserialize(serde_yaml::Deserializer::from_str(text)) {
        Ok(()) => Ok(n.get()),
        Err(_) if over.get() => Err(Count::Over { limit }),
        Err(e) => Err(Count::Yaml(e)),
    }
}

#[derive(Clone, Copy)]
struct Counter<'a> {
    n: &'a Cell<usize>,
    over: &'a Cell<bool>,
    limit: usize,
}

impl Counter<'_> {
    fn one<E: de::Error>(&self) -> Result<(), E> {
        self.n.set(self.n.get() + 1);
        if self.n.get() > self.limit {
            self.over.set(true);
            return Err(E::custom("too many values"));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Counter<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Counter<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.one()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.one()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.one()
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.one()
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.one()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.one()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.one()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.one()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.one()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.one()?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.one()?;
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }
    /// A tagged value (`!custom x`): the tag, then its value.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        let ((), value) = data.variant_seed(Tag)?;
        value.newtype_variant_seed(self)
    }
}

/// A tag's name, read and dropped.
struct Tag;

impl<'de> DeserializeSeed<'de> for Tag {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(de::IgnoredAny).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An anchor of `width` values referenced `refs` times: quadratic expansion.
    pub fn quadratic_bomb(width: usize, refs: usize) -> String {
        let mut t = String::from("a: &a [");
        t.push_str(&"x,".repeat(width));
        t.push_str("x]\nb:\n");
        t.push_str(&"- *a\n".repeat(refs));
        t
    }

    #[test]
    fn counts_every_value_and_expands_aliases() {
        assert_eq!(count_values("a: 1", 100).unwrap(), 3);
        assert_eq!(count_values("a: [1, 2, {b: null}]", 100).unwrap(), 8);
        assert_eq!(
            count_values("a: &x [1, 2]\nb: *x\nc: !t 3", 100).unwrap(),
            11
        );
    }

    #[test]
    fn stops_at_the_limit_without_building_anything() {
        let bomb = quadratic_bomb(1000, 10_000);
        assert!(bomb.len() < 60_000, "{}", bomb.len());
        let limit = alias_budget(bomb.len());
        assert!(matches!(
            count_values(&bomb, limit),
            Err(Count::Over { limit: l }) if l == limit
        ));
    }

    #[test]
    fn yaml_errors_are_left_to_the_parser() {
        assert!(matches!(count_values("a: b: c", 100), Err(Count::Yaml(_))));
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(size(20 * MIB), "20.0 MiB");
        assert_eq!(size(3 * 1024 + 5), "3 KiB");
        assert_eq!(size(12), "12 bytes");
    }
}
