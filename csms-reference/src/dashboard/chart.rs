//! The power / energy chart of a session, drawn as SVG from its meter values.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::store::MeterValueRecord;

/// One series: (Unix milliseconds, value) sorted by time.
type Points = Vec<(i64, f64)>;

/// The series a chart shows.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Series {
    /// The energy register, kWh.
    pub energy: Points,
    /// Active import power, kW.
    pub power: Points,
    /// Whether the power is derived from the energy (the station sent none).
    pub derived_power: bool,
}

/// The factor to kWh / kW of a unit as stored (`Wh`, `kWh`, `W`, `kW`, with an optional
/// 2.x multiplier `e<N>`), for energy or power.
fn factor(unit: Option<&str>, energy: bool) -> Option<f64> {
    let unit = unit.unwrap_or(if energy { "Wh" } else { "W" });
    let (base, mult) = match unit.rfind('e') {
        Some(i) if unit[i + 1..].parse::<i32>().is_ok() => {
            (&unit[..i], unit[i + 1..].parse::<i32>().unwrap_or(0))
        }
        _ => (unit, 0),
    };
    let f = match (base, energy) {
        ("Wh", true) | ("W", false) => 1e-3,
        ("kWh", true) | ("kW", false) => 1.0,
        _ => return None,
    };
    Some(f * 10f64.powi(mult))
}

fn millis(ts: &str) -> Option<i64> {
    super::parse_time(ts).map(|t| t.timestamp_millis())
}

/// The energy and power series of a transaction's meter values.
pub(super) fn series(values: &[MeterValueRecord]) -> Series {
    let mut energy: BTreeMap<i64, f64> = BTreeMap::new();
    let mut power: BTreeMap<i64, f64> = BTreeMap::new();
    let mut phase_power: BTreeMap<i64, f64> = BTreeMap::new();
    for m in values {
        let Some(t) = millis(&m.timestamp) else {
            continue;
        };
        let Ok(v) = m.value.trim().parse::<f64>() else {
            continue;
        };
        match m.measurand.as_deref() {
            None | Some("Energy.Active.Import.Register") if m.phase.is_none() => {
                if let Some(f) = factor(m.unit.as_deref(), true) {
                    energy.insert(t, v * f);
                }
            }
            Some("Power.Active.Import") => {
                if let Some(f) = factor(m.unit.as_deref(), false) {
                    match m.phase.as_deref() {
                        None => {
                            power.insert(t, v * f);
                        }
                        // Per-phase values count when no total is given (L1-N, L1, ...).
                        Some(p) if !p.contains('-') || p.ends_with("-N") => {
                            *phase_power.entry(t).or_default() += v * f;
                        }
                        Some(_) => {}
                    }
                }
            }
            _ => {}
        }
    }
    if power.is_empty() {
        power = phase_power;
    }
    let energy: Points = energy.into_iter().collect();
    let mut out = Series {
        power: power.into_iter().collect(),
        derived_power: false,
        energy,
    };
    if out.power.is_empty() && out.energy.len() >= 2 {
        out.derived_power = true;
        out.power = out
            .energy
            .windows(2)
            .filter(|w| w[1].0 > w[0].0)
            .map(|w| {
                let hours = (w[1].0 - w[0].0) as f64 / 3_600_000.0;
                (w[1].0, ((w[1].1 - w[0].1) / hours).max(0.0))
            })
            .collect();
    }
    out
}

/// A round step (1, 2, 2.5 or 5 times a power of ten) of about `span / n`, and the top of
/// the axis (`n` steps).
fn nice_axis(max: f64, n: u32) -> (f64, f64) {
    if max.is_nan() || max <= 0.0 || max.is_infinite() {
        return (0.25, 0.25 * f64::from(n));
    }
    let raw = max / f64::from(n);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    (step, step * f64::from(n))
}

/// A tick or point label with the decimals that `step` needs (trailing zeros dropped).
fn label(v: f64, step: f64) -> String {
    let decimals = if step > 0.0 && step.is_finite() {
        ((-step.log10()).ceil() as i64 + 1).clamp(0, 6) as usize
    } else {
        3
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

const W: f64 = 880.0;
const H: f64 = 300.0;
const L: f64 = 58.0;
const R: f64 = 58.0;
const T: f64 = 30.0;
const B: f64 = 34.0;
const TICKS: u32 = 4;

/// The chart as an SVG element (or a note when there is nothing to draw).
pub(super) fn svg(s: &Series) -> String {
    if s.energy.is_empty() && s.power.is_empty() {
        return r#"<div class="empty" id="chart-empty">No meter values yet: the chart appears with the first one.</div>"#.into();
    }
    let all_t = s.energy.iter().chain(s.power.iter()).map(|p| p.0);
    let (mut t0, mut t1) = (i64::MAX, i64::MIN);
    for t in all_t {
        t0 = t0.min(t);
        t1 = t1.max(t);
    }
    if t1 - t0 < 30_000 {
        t1 = t0 + 30_000;
    }
    let e_min = s.energy.first().map(|p| p.1).unwrap_or(0.0);
    let e_max = s.energy.iter().map(|p| p.1 - e_min).fold(0.0, f64::max);
    let p_max = s.power.iter().map(|p| p.1).fold(0.0, f64::max);
    let (e_step, e_top) = nice_axis(e_max, TICKS);
    let (p_step, p_top) = nice_axis(p_max, TICKS);
    let pw = W - L - R;
    let ph = H - T - B;
    let x = |t: i64| L + (t - t0) as f64 / (t1 - t0) as f64 * pw;
    let ye = |v: f64| T + ph - (v - e_min) / e_top * ph;
    let yp = |v: f64| T + ph - v / p_top * ph;
    let mut o = format!(
        r#"<svg class="chart" id="session-chart" viewBox="0 0 {W} {H}" role="img" aria-label="Power and energy over time" data-energy-points="{}" data-power-points="{}" xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif" font-size="11">"#,
        s.energy.len(),
        s.power.len()
    );
    // Grid and axes labels.
    for i in 0..=TICKS {
        let y = T + ph - f64::from(i) / f64::from(TICKS) * ph;
        let _ = write!(
            o,
            r##"<line x1="{L}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="{}" stroke-width="1"/><text x="{}" y="{:.1}" text-anchor="end" fill="#16a34a">{}</text><text x="{}" y="{:.1}" fill="#2563eb">{}</text>"##,
            W - R,
            if i == 0 { "#cbd5e1" } else { "#eef2f7" },
            L - 8.0,
            y + 4.0,
            label(f64::from(i) * e_step, e_step),
            W - R + 8.0,
            y + 4.0,
            label(f64::from(i) * p_step, p_step),
        );
    }
    for i in 0..=4 {
        let t = t0 + (t1 - t0) * i / 4;
        let label = chrono::DateTime::from_timestamp_millis(t)
            .map(|d| d.format("%H:%M:%S").to_string())
            .unwrap_or_default();
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = write!(
            o,
            r##"<text x="{:.1}" y="{}" text-anchor="{anchor}" fill="#64748b">{label}</text>"##,
            x(t),
            H - 10.0
        );
    }
    let _ = write!(
        o,
        r##"<text x="{}" y="{}" fill="#16a34a" font-weight="600">kWh</text><text x="{}" y="{}" text-anchor="end" fill="#2563eb" font-weight="600">kW</text>"##,
        L - 30.0,
        T - 16.0,
        W - R + 30.0,
        T - 16.0
    );
    // Energy: area and line.
    if !s.energy.is_empty() {
        let mut line = String::new();
        for (i, (t, v)) in s.energy.iter().enumerate() {
            let _ = write!(
                line,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { " L" },
                x(*t),
                ye(*v)
            );
        }
        let (first, last) = (s.energy[0].0, s.energy[s.energy.len() - 1].0);
        let _ = write!(
            o,
            r##"<path d="{line} L{:.1},{:.1} L{:.1},{:.1} Z" fill="#22c55e" fill-opacity="0.12" stroke="none"/><path class="line-energy" d="{line}" fill="none" stroke="#16a34a" stroke-width="2" stroke-linejoin="round"/>"##,
            x(last),
            T + ph,
            x(first),
            T + ph
        );
    }
    if !s.power.is_empty() {
        let mut line = String::new();
        for (i, (t, v)) in s.power.iter().enumerate() {
            let _ = write!(
                line,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { " L" },
                x(*t),
                yp(*v)
            );
        }
        let _ = write!(
            o,
            r##"<path class="line-power" d="{line}" fill="none" stroke="#2563eb" stroke-width="2" stroke-linejoin="round"{}/>"##,
            if s.derived_power {
                r#" stroke-dasharray="5 4""#
            } else {
                ""
            }
        );
    }
    // Points, while there are few enough to see them.
    if s.energy.len() + s.power.len() <= 400 {
        for (t, v) in &s.energy {
            let _ = write!(
                o,
                r##"<circle class="pt pt-e" cx="{:.1}" cy="{:.1}" r="3" fill="#fff" stroke="#16a34a" stroke-width="1.5"><title>{} kWh</title></circle>"##,
                x(*t),
                ye(*v),
                label(*v, 0.001)
            );
        }
        for (t, v) in &s.power {
            let _ = write!(
                o,
                r##"<circle class="pt pt-p" cx="{:.1}" cy="{:.1}" r="3" fill="#fff" stroke="#2563eb" stroke-width="1.5"><title>{} kW</title></circle>"##,
                x(*t),
                yp(*v),
                label(*v, 0.01)
            );
        }
    }
    o.push_str("</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(ts: &str, value: &str, measurand: Option<&str>, unit: Option<&str>) -> MeterValueRecord {
        MeterValueRecord {
            timestamp: ts.into(),
            value: value.into(),
            measurand: measurand.map(Into::into),
            unit: unit.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn units_and_multipliers() {
        assert_eq!(factor(None, true), Some(1e-3));
        assert_eq!(factor(Some("kWh"), true), Some(1.0));
        assert_eq!(factor(Some("Whe3"), true), Some(1.0));
        assert_eq!(factor(Some("kW"), false), Some(1.0));
        assert_eq!(factor(Some("A"), false), None);
    }

    #[test]
    fn series_from_both_spellings() {
        let e = Some("Energy.Active.Import.Register");
        let p = Some("Power.Active.Import");
        let s = series(&[
            mv("2024-05-01T10:00:00Z", "1000", e, Some("Wh")),
            mv("2024-05-01T10:00:00Z", "7400", p, Some("W")),
            mv("2024-05-01T10:30:00Z", "4.7", e, Some("kWh")),
            mv("2024-05-01T10:30:00Z", "7.4", p, Some("kW")),
            mv(
                "2024-05-01T10:30:00Z",
                "16",
                Some("Current.Import"),
                Some("A"),
            ),
            mv("not a time", "1", e, None),
        ]);
        assert_eq!(s.energy.len(), 2);
        assert_eq!(s.energy[0].1, 1.0);
        assert!((s.energy[1].1 - 4.7).abs() < 1e-9);
        assert_eq!(s.power.len(), 2);
        assert!((s.power[0].1 - 7.4).abs() < 1e-9);
        assert!(!s.derived_power);
        let svg = svg(&s);
        assert!(svg.contains(r#"data-energy-points="2" data-power-points="2""#));
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn power_derived_from_energy_and_empty_chart() {
        let s = series(&[
            mv("2024-05-01T10:00:00Z", "0", None, None),
            mv("2024-05-01T10:30:00Z", "5500", None, None),
        ]);
        assert!(s.derived_power);
        assert_eq!(s.power, vec![(s.energy[1].0, 11.0)]);
        assert!(svg(&Series::default()).contains("No meter values yet"));
    }

    #[test]
    fn axes_are_round() {
        assert_eq!(nice_axis(7.4, 4), (2.0, 8.0));
        assert_eq!(nice_axis(0.9, 4), (0.25, 1.0));
        assert_eq!(nice_axis(0.0, 4), (0.25, 1.0));
        assert_eq!(label(2.5, 2.5), "2.5");
        assert_eq!(label(0.0075, 0.0025), "0.0075");
        assert_eq!(label(8.0, 2.0), "8");
        assert_eq!(label(750.0, 250.0), "750");
    }
}
