//! AWS prices as data: `assets/prices.toml` (compiled in), per region, each
//! price with its unit, the date it was read and its source, overridable by
//! a `[prices.REGION]` table in the user config. Money is integer
//! micro-dollars ([`Money`]); prices are integer nano-dollars per unit, so
//! sums never drift the way float sums do.
//!
//! This module owns the price table and the arithmetic of one charge
//! (quantity × unit price). What a step is charged for lives in
//! `super::charges`. It never touches the terminal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::runbook::diagnostic::line_col;

/// The shipped price file.
pub const SHIPPED: &str = include_str!("../../assets/prices.toml");
/// Its name in messages.
pub const SHIPPED_NAME: &str = "assets/prices.toml";

/// An amount of US dollars, in integer micro-dollars (10⁻⁶ $).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub u64);

impl Money {
    /// Zero dollars.
    pub const ZERO: Money = Money(0);

    /// `$1.23`; an amount under a cent but not zero shows four places
    /// (`$0.0012`), so a small charge never reads as free.
    pub fn usd(self) -> String {
        let m = self.0;
        if m > 0 && m < 50 {
            return "<$0.0001".into();
        }
        if m > 0 && m < 10_000 {
            let tenth_millis = (m + 50) / 100;
            return format!("${}.{:04}", tenth_millis / 10_000, tenth_millis % 10_000);
        }
        let cents = (m + 5_000) / 10_000;
        format!("${}.{:02}", cents / 100, cents % 100)
    }

    /// The sum, saturating (a hostile size cannot wrap it).
    pub fn plus(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Money::plus)
    }
}

/// What a price is per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    /// Per GB (2³⁰ bytes, as AWS bills).
    #[serde(rename = "GB")]
    Gb,
    /// Per GB-month (a month is 730 hours).
    #[serde(rename = "GB-month")]
    GbMonth,
    /// Per 1,000 requests.
    #[serde(rename = "1000 requests")]
    ThousandRequests,
}

impl Unit {
    /// The unit as written in the price file.
    pub fn word(self) -> &'static str {
        match self {
            Unit::Gb => "GB",
            Unit::GbMonth => "GB-month",
            Unit::ThousandRequests => "1000 requests",
        }
    }

    fn parse(text: &str) -> Option<Unit> {
        match text {
            "GB" => Some(Unit::Gb),
            "GB-month" => Some(Unit::GbMonth),
            "1000 requests" => Some(Unit::ThousandRequests),
            _ => None,
        }
    }
}

/// One price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    /// US nano-dollars (10⁻⁹ $) per unit.
    pub nano_usd: u64,
    /// What it is per.
    pub per: Unit,
    /// When it was read (as written).
    pub read: String,
    /// Where it was read.
    pub source: String,
}

/// Bytes in a GB as AWS bills it.
pub const GB: u64 = 1 << 30;
/// Hours in a month as AWS bills storage.
pub const HOURS_PER_MONTH: u64 = 730;

impl Price {
    /// `$0.15 per GB`.
    pub fn text(&self) -> String {
        format!("{} per {}", nano_text(self.nano_usd), self.per.word())
    }

    /// The charge for `bytes` at a per-GB price, or `count` requests at a
    /// per-1,000 price; for a GB-month price, `bytes` kept for `hours`.
    pub fn charge(&self, amount: u64, hours: u64) -> Money {
        let nano = self.nano_usd as u128 * amount as u128;
        let (num, den) = match self.per {
            Unit::Gb => (nano, GB as u128),
            Unit::ThousandRequests => (nano, 1_000),
            Unit::GbMonth => (nano * hours as u128, GB as u128 * HOURS_PER_MONTH as u128),
        };
        // nano-dollars → micro-dollars, rounded half up.
        let micro = (num + den * 500) / (den * 1_000);
        Money(u64::try_from(micro).unwrap_or(u64::MAX))
    }
}

/// `$0.0004`: a nano-dollar amount with as many places as it needs.
pub fn nano_text(nano: u64) -> String {
    let whole = nano / 1_000_000_000;
    let frac = nano % 1_000_000_000;
    let mut places = format!("{frac:09}");
    while places.len() > 2 && places.ends_with('0') {
        places.pop();
    }
    format!("${whole}.{places}")
}

/// The prices of every region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prices {
    /// Region → price name → price.
    pub regions: BTreeMap<String, BTreeMap<String, Price>>,
}

/// A price file or a `[prices]` table that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{column}: {field}: {message}")]
pub struct PriceError {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field, e.g. `prices.us-east-1.s3-get-requests.usd`.
    pub field: String,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl Prices {
    /// The shipped prices.
    pub fn shipped() -> Result<Prices, PriceError> {
        let mut prices = Prices::default();
        prices.read_file(Path::new(SHIPPED_NAME), SHIPPED, false)?;
        Ok(prices)
    }

    /// The shipped prices with the user config's `[prices]` on top.
    pub fn load() -> Result<Prices, PriceError> {
        let mut prices = Prices::shipped()?;
        if let Some(path) = config_path().filter(|p| p.exists()) {
            let text = std::fs::read_to_string(&path).map_err(|e| PriceError {
                path: path.display().to_string(),
                line: 1,
                column: 1,
                field: "prices".into(),
                message: format!("cannot read it: {e}"),
            })?;
            prices.read_file(&path, &text, true)?;
        }
        Ok(prices)
    }

    /// A price, if the table has it.
    pub fn get(&self, region: &str, name: &str) -> Option<&Price> {
        self.regions.get(region)?.get(name)
    }

    /// Reads a price file (`in_config`: a user config, whose `[prices]`
    /// table holds the regions and whose other settings are not ours).
    pub fn read_file(
        &mut self,
        path: &Path,
        text: &str,
        in_config: bool,
    ) -> Result<(), PriceError> {
        let error = |offset: u32, field: &str, message: String| {
            let (line, column) = line_col(text, offset as usize);
            PriceError {
                path: path.display().to_string(),
                line,
                column,
                field: field.to_owned(),
                message,
            }
        };
        let arena = toml_spanner::Arena::new();
        let doc = toml_spanner::parse(text, &arena)
            .map_err(|e| error(e.span().start, "", format!("not valid TOML: {e}")))?;
        let top = doc.table();
        let (regions, prefix) = if in_config {
            let Some((_, item)) = top.into_iter().find(|(k, _)| k.as_str() == "prices") else {
                return Ok(());
            };
            let Some(t) = item.as_table() else {
                return Err(error(
                    item.span().start,
                    "prices",
                    "`prices` must be a table of regions, e.g. [prices.us-east-1]".into(),
                ));
            };
            (t, "prices.")
        } else {
            (top, "")
        };
        for (region, names) in regions {
            let region = region.as_str();
            let field = format!("{prefix}{region}");
            let Some(names) = names.as_table() else {
                return Err(error(
                    names.span().start,
                    &field,
                    format!("a region is a table of prices, e.g. [{field}]"),
                ));
            };
            for (name, item) in names {
                let field = format!("{field}.{}", name.as_str());
                let price = read_price(item, &field, &error)?;
                self.regions
                    .entry(region.to_owned())
                    .or_default()
                    .insert(name.as_str().to_owned(), price);
            }
            self.regions.entry(region.to_owned()).or_default();
        }
        Ok(())
    }
}

fn read_price(
    item: &toml_spanner::Item<'_>,
    field: &str,
    error: &dyn Fn(u32, &str, String) -> PriceError,
) -> Result<Price, PriceError> {
    let example = "{ usd = \"0.15\", per = \"GB\", read = \"2026-12-03\", source = \"https://aws.amazon.com/…/pricing/\" }";
    let Some(t) = item.as_table() else {
        return Err(error(
            item.span().start,
            field,
            format!("a price is a table, e.g. {example}"),
        ));
    };
    let mut nano = None;
    let mut per = None;
    let mut read = None;
    let mut source = None;
    for (key, value) in t {
        let f = format!("{field}.{}", key.as_str());
        let at = value.span().start;
        match key.as_str() {
            "usd" => {
                let text = match (value.as_str(), value.as_f64(), value.as_i64()) {
                    (Some(s), _, _) => s.to_owned(),
                    (None, _, Some(i)) => i.to_string(),
                    (None, Some(x), None) => x.to_string(),
                    _ => String::new(),
                };
                nano = Some(parse_usd(&text).ok_or_else(|| {
                    error(
                        at,
                        &f,
                        format!(
                            "`{}` is not a price in dollars; write a number of at most 9 decimal places from 0 to 1000000, e.g. usd = \"0.0004\"",
                            crate::format::printable(&text)
                        ),
                    )
                })?);
            }
            "per" => {
                let text = value.as_str().unwrap_or_default();
                per = Some(Unit::parse(text).ok_or_else(|| {
                    error(
                        at,
                        &f,
                        "`per` is \"GB\", \"GB-month\" or \"1000 requests\"".into(),
                    )
                })?);
            }
            "read" | "source" => {
                let text = value
                    .as_str()
                    .ok_or_else(|| error(at, &f, format!("`{}` is a string", key.as_str())))?;
                let text = crate::format::printable(text).into_owned();
                if key.as_str() == "read" {
                    read = Some(text);
                } else {
                    source = Some(text);
                }
            }
            other => {
                return Err(error(
                    at,
                    &f,
                    format!(
                        "unknown field `{}`; a price has usd, per, read and source",
                        crate::format::printable(other)
                    ),
                ));
            }
        }
    }
    let missing = |what: &str| {
        error(
            item.span().start,
            field,
            format!("the price has no `{what}`; write {example}"),
        )
    };
    Ok(Price {
        nano_usd: nano.ok_or_else(|| missing("usd"))?,
        per: per.ok_or_else(|| missing("per"))?,
        read: read.ok_or_else(|| missing("read"))?,
        source: source.ok_or_else(|| missing("source"))?,
    })
}

/// `"0.0004"` → 400,000 nano-dollars. At most 9 decimal places, no sign,
/// no exponent, at most a million dollars.
fn parse_usd(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || whole.len() > 7
        || frac.len() > 9
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    if whole > 1_000_000 {
        return None;
    }
    let frac: u64 = format!("{frac:0<9}").parse().ok()?;
    Some(whole * 1_000_000_000 + frac)
}

/// Where the user config file is looked for: `$DR_DRILL_CONFIG`, or
/// `<config dir>/dr-drill/config.toml`.
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DR_DRILL_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    directories::ProjectDirs::from("", "", "dr-drill").map(|d| d.config_dir().join("config.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_parses_with_units_dates_and_sources() {
        let p = Prices::shipped().unwrap();
        for region in ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"] {
            assert!(p.regions.contains_key(region), "{region}");
        }
        let get = p.get("us-east-1", "s3-get-requests").unwrap();
        assert_eq!(get.nano_usd, 400_000);
        assert_eq!(get.per, Unit::ThousandRequests);
        assert_eq!(get.text(), "$0.0004 per 1000 requests");
        for prices in p.regions.values() {
            for price in prices.values() {
                assert!(price.source.starts_with("https://"), "{price:?}");
                assert!(!price.read.is_empty());
            }
        }
    }

    #[test]
    fn a_config_overrides_one_price_and_keeps_the_rest() {
        let mut p = Prices::shipped().unwrap();
        let text = "theme = \"light\"\n[prices.us-east-1]\ns3-transfer-out = { usd = 0.05, per = \"GB\", read = \"2026-12-01\", source = \"https://example.com/contract\" }\n[prices.eu-west-1]\ndynamodb-restore = { usd = \"0.17\", per = \"GB\", read = \"2026-12-01\", source = \"https://aws.amazon.com/dynamodb/pricing/\" }\n";
        p.read_file(Path::new("config.toml"), text, true).unwrap();
        assert_eq!(
            p.get("us-east-1", "s3-transfer-out").unwrap().nano_usd,
            50_000_000
        );
        assert_eq!(
            p.get("us-east-1", "s3-get-requests").unwrap().nano_usd,
            400_000
        );
        assert_eq!(
            p.get("eu-west-1", "dynamodb-restore").unwrap().text(),
            "$0.17 per GB"
        );
    }

    #[test]
    fn a_bad_override_names_the_file_line_and_field() {
        let mut p = Prices::shipped().unwrap();
        let text = "[prices.us-east-1]\ns3-get-requests = { usd = \"-1\", per = \"GB\", read = \"x\", source = \"y\" }\n";
        let e = p
            .read_file(
                Path::new("/home/op/.config/dr-drill/config.toml"),
                text,
                true,
            )
            .unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.field, "prices.us-east-1.s3-get-requests.usd");
        assert!(
            e.to_string()
                .starts_with("/home/op/.config/dr-drill/config.toml:2:"),
            "{e}"
        );
        let e = p
            .read_file(
                Path::new("c.toml"),
                "[prices.us-east-1]\nx = { usd = \"1\", per = \"TB\", read = \"r\", source = \"s\" }\n",
                true,
            )
            .unwrap_err();
        assert_eq!(e.field, "prices.us-east-1.x.per");
        let e = p
            .read_file(
                Path::new("c.toml"),
                "[prices.us-east-1]\nx = { usd = \"1\" }\n",
                true,
            )
            .unwrap_err();
        assert!(e.message.contains("no `per`"), "{e}");
        let e = p
            .read_file(Path::new("c.toml"), "prices = 3\n", true)
            .unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (1, "prices"));
    }

    #[test]
    fn charges_are_exact_integers() {
        let per_gb = Price {
            nano_usd: 150_000_000,
            per: Unit::Gb,
            read: String::new(),
            source: String::new(),
        };
        // 10 GB × $0.15 = $1.50
        assert_eq!(per_gb.charge(10 * GB, 0), Money(1_500_000));
        let per_month = Price {
            nano_usd: 250_000_000,
            per: Unit::GbMonth,
            ..per_gb.clone()
        };
        // 73 GB for 24 h at $0.25 per GB-month: 73 × 0.25 × 24/730 = $0.60
        assert_eq!(per_month.charge(73 * GB, 24), Money(600_000));
        let per_k = Price {
            nano_usd: 400_000,
            per: Unit::ThousandRequests,
            ..per_gb
        };
        // 2,500 GETs × $0.0004/1000 = $0.001
        assert_eq!(per_k.charge(2_500, 0), Money(1_000));
        assert_eq!(Money(1_000).usd(), "$0.0010");
        assert_eq!(Money(1_234_567).usd(), "$1.23");
        assert_eq!(Money::ZERO.usd(), "$0.00");
        assert!(per_k.charge(u64::MAX, 0).0 > 0);
    }
}
