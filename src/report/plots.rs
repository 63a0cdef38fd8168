//! SVG charts of a run, drawn with plotters' SVG backend: verify latency by
//! percentile, the revocation timeline, and the store-load versus
//! revocation-delay scatter for sweeps.
//!
//! Text is written as SVG `<text>` elements that the browser renders, so no
//! font files are needed. Charts are 800 pixels wide.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{histogram, Delay, Report};
use crate::time::{DAY, HOUR, MINUTE, SECOND};

const WIDTH: u32 = 800;
const FONT: &str = "sans-serif";

/// A chart that could not be drawn, with plotters' message.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the {chart} chart: {message}")]
pub struct PlotError {
    pub chart: &'static str,
    pub message: String,
}

/// Colour of the strategy at `index`, from a palette that stays apart on
/// white and for common colour-vision deficiencies (Okabe and Ito).
pub fn color(index: usize) -> RGBColor {
    const PALETTE: [RGBColor; 10] = [
        RGBColor(0, 114, 178),
        RGBColor(213, 94, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(230, 159, 0),
        RGBColor(86, 180, 233),
        RGBColor(117, 112, 179),
        RGBColor(0, 0, 0),
        RGBColor(166, 118, 29),
        RGBColor(102, 166, 30),
    ];
    PALETTE[index % PALETTE.len()]
}

/// Draws the legend of every labelled series in the same style on each
/// chart.
fn draw_legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(|e| e.to_string())
}

/// Runs `draw` on an 800-pixel-wide SVG canvas and returns the SVG text.
fn render_svg(
    chart: &'static str,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
) -> Result<String, PlotError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let error = |message: String| PlotError { chart, message };
        root.fill(&WHITE).map_err(|e| error(e.to_string()))?;
        draw(&root).map_err(error)?;
        root.present().map_err(|e| error(e.to_string()))?;
    }
    Ok(svg)
}

/// Formats a percentile axis position `x = 1 / (1 - q)` as `q` in percent.
fn percentile_label(x: f64) -> String {
    let percent = 100.0 * (1.0 - 1.0 / x);
    let text = format!("{percent:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

/// A strategy's index (for its colour), label and `(x, µs)` points.
type LatencySeries<'a> = (usize, &'a str, Vec<(f64, f64)>);

/// Labels a percentile axis position only at powers of ten (90%, 99%,
/// 99.9%), where the log scale puts its major ticks.
fn decade_label(x: f64) -> String {
    let decade = x.log10();
    if (decade - decade.round()).abs() < 1e-6 {
        percentile_label(x)
    } else {
        String::new()
    }
}

/// Draws verify latency against percentile for every strategy whose report
/// contains a histogram: one line per strategy, both axes logarithmic.
pub fn latency_svg(report: &Report) -> Result<String, PlotError> {
    let series: Vec<LatencySeries> = report
        .strategies
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let h = histogram::decode(s.latency.verify_histogram.as_deref()?).ok()?;
            (!h.is_empty()).then(|| (i, s.label.as_str(), percentile_points(&h)))
        })
        .collect();
    let x_max = series
        .iter()
        .filter_map(|(_, _, points)| points.last().map(|p| p.0))
        .fold(10.0, f64::max);
    let values = series.iter().flat_map(|(_, _, p)| p.iter().map(|p| p.1));
    let (y_min, y_max) = values.fold((f64::MAX, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (y_min, y_max) = if series.is_empty() {
        (0.1, 10.0)
    } else {
        (y_min * 0.8, y_max * 1.25)
    };

    render_svg("verify latency", 480, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Verify latency by percentile: {}", report.scenario.name),
                (FONT, 24),
            )
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d((1.0..x_max).log_scale(), (y_min..y_max).log_scale())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("percentile (log scale of 1 / (1 - percentile))")
            .y_desc("verify latency (µs, log scale)")
            .x_label_formatter(&|x| decade_label(*x))
            .y_label_formatter(&|y| format_micros(*y))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .draw()
            .map_err(|e| e.to_string())?;
        for (index, label, points) in &series {
            let style = color(*index).stroke_width(2);
            chart
                .draw_series(LineSeries::new(points.iter().copied(), style))
                .map_err(|e| e.to_string())?
                .label(*label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// Samples a histogram at percentiles spaced evenly on the log scale of
/// `1 / (1 - q)`, as `(x, microseconds)`, up to the percentile of its
/// largest value.
fn percentile_points(h: &hdrhistogram::Histogram<u64>) -> Vec<(f64, f64)> {
    let x_end = (h.len() as f64).clamp(100.0, 1e6);
    let steps = 120;
    (0..=steps)
        .map(|i| {
            let x = x_end.powf(f64::from(i) / f64::from(steps));
            let q = 1.0 - 1.0 / x;
            (x, h.value_at_quantile(q) as f64 / 1_000.0)
        })
        .collect()
}

/// Formats microseconds for a log axis: `0.5`, `3`, `120`.
fn format_micros(us: f64) -> String {
    if us < 0.01 {
        // Enough digits that a tick at 0.001 µs does not read 0.00.
        format!("{us}")
    } else if us < 1.0 {
        format!("{us:.2}")
    } else if us < 10.0 {
        format!("{us:.1}")
    } else {
        format!("{us:.0}")
    }
}

/// Colour of rejected presentations: grey, so that accepted ones stand out.
const REJECTED: RGBColor = RGBColor(110, 110, 110);

/// Rows above each strategy's band of samples, where its name goes.
const BAND_HEADER_ROWS: usize = 2;

/// Picks a unit for a virtual-time axis so that `max_ms` reads well.
fn time_unit(max_ms: u64) -> (f64, &'static str) {
    match max_ms {
        0..=120_000 => (SECOND as f64, "s"),
        120_001..=7_200_000 => (MINUTE as f64, "min"),
        7_200_001..=259_200_000 => (HOUR as f64, "h"),
        _ => (DAY as f64, "d"),
    }
}

/// Draws every presentation of the sampled revoked credentials against
/// virtual time since their revocation: a row per credential, grouped and
/// coloured by strategy, filled dots for accepted presentations and black
/// crosses for rejected ones.
pub fn revocation_svg(report: &Report) -> Result<String, PlotError> {
    let rows: usize = report
        .strategies
        .iter()
        .map(|s| s.revocation.samples.len().max(1) + BAND_HEADER_ROWS)
        .sum();
    let max_ms = report
        .strategies
        .iter()
        .flat_map(|s| &s.revocation.samples)
        .flat_map(|sample| {
            let start = sample.revoked_at_ms;
            sample.presentations.iter().map(move |p| p.at_ms - start)
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let (unit_ms, unit) = time_unit(max_ms);
    // The right quarter stays free for the legend.
    let x_max = max_ms as f64 / unit_ms * 1.4;
    let height = (160 + 12 * rows as u32).clamp(320, 1400);

    render_svg("revocation timeline", height, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!(
                    "Revoked credentials presented after revocation: {}",
                    report.scenario.name
                ),
                (FONT, 24),
            )
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(20)
            .build_cartesian_2d(-x_max * 0.02..x_max, -(rows as f64)..0.5)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(format!("virtual time since revocation ({unit})"))
            .y_desc("sampled credentials, by strategy")
            .y_labels(0)
            .disable_y_mesh()
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .draw()
            .map_err(|e| e.to_string())?;

        let mut row = 0usize;
        for (index, strategy) in report.strategies.iter().enumerate() {
            let style = color(index);
            let band_top = -(row as f64);
            chart
                .draw_series(std::iter::once(Text::new(
                    format!(
                        "{}: {} of {} tracked credentials shown",
                        strategy.label,
                        strategy.revocation.samples.len(),
                        strategy.revocation.tracked
                    ),
                    (0.0, band_top + 0.4),
                    (FONT, 14).into_font().color(&style),
                )))
                .map_err(|e| e.to_string())?;
            let mut accepted = Vec::new();
            let mut rejected = Vec::new();
            for (i, sample) in strategy.revocation.samples.iter().enumerate() {
                let y = band_top - BAND_HEADER_ROWS as f64 - i as f64;
                for p in &sample.presentations {
                    let x = (p.at_ms - sample.revoked_at_ms) as f64 / unit_ms;
                    if p.accepted {
                        accepted.push((x, y));
                    } else {
                        rejected.push((x, y));
                    }
                }
            }
            chart
                .draw_series(
                    accepted
                        .iter()
                        .map(|&point| Circle::new(point, 3, style.filled())),
                )
                .map_err(|e| e.to_string())?
                .label(format!("{} (accepted)", strategy.label))
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, style.filled()));
            chart
                .draw_series(
                    rejected
                        .iter()
                        .map(|&point| Cross::new(point, 3, REJECTED.stroke_width(1))),
                )
                .map_err(|e| e.to_string())?;
            row += strategy.revocation.samples.len().max(1) + BAND_HEADER_ROWS;
        }
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(|e| e.to_string())?
            .label("rejected")
            .legend(|(x, y)| Cross::new((x + 10, y), 4, REJECTED.stroke_width(1)));
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

/// One configuration of a parameter sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPoint {
    pub label: String,
    /// Store reads and writes per 1,000 requests.
    pub store_ops_per_thousand: f64,
    /// Maximum revocation delay; `None` when no revoked credential was
    /// presented, which leaves the point off the chart.
    pub revocation_delay: Option<Delay>,
    /// Whether no other point has less of one figure and no more of the
    /// other.
    pub on_front: bool,
}

/// Maximum revocation delay as a number for ordering: "never" is infinite.
fn delay_value(point: &SweepPoint) -> Option<f64> {
    match point.revocation_delay? {
        Delay::Ms(ms) => Some(ms as f64),
        Delay::Never(_) => Some(f64::INFINITY),
    }
}

/// Draws store load against maximum revocation delay for sweep points,
/// with the Pareto front joined and ringed. Points whose delay is "never"
/// sit on a line at the top marked `never`.
pub fn sweep_svg(title: &str, points: &[SweepPoint]) -> Result<String, PlotError> {
    let finite_max = points
        .iter()
        .filter_map(delay_value)
        .filter(|d| d.is_finite())
        .fold(1.0, f64::max) as u64;
    let (unit_ms, unit) = time_unit(finite_max);
    let never_y = finite_max as f64 / unit_ms * 1.2;
    let y_of = |point: &SweepPoint| {
        delay_value(point).map(|d| if d.is_finite() { d / unit_ms } else { never_y })
    };
    let x_max = points
        .iter()
        .map(|p| p.store_ops_per_thousand)
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.15;
    let mut front: Vec<&SweepPoint> = points.iter().filter(|p| p.on_front).collect();
    front.sort_by(|a, b| {
        a.store_ops_per_thousand
            .total_cmp(&b.store_ops_per_thousand)
    });

    render_svg("sweep", 480, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Store load vs revocation delay: {title}"),
                (FONT, 24),
            )
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(70)
            // Room above the `never` line keeps the legend clear of points.
            .build_cartesian_2d(0.0..x_max, 0.0..never_y * 1.3)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("store reads and writes per 1,000 requests")
            .y_desc(format!("max revocation delay ({unit})"))
            .x_label_formatter(&|x| {
                if x_max > 10.0 {
                    format!("{x:.0}")
                } else {
                    format!("{x:.1}")
                }
            })
            // Ticks at and above the `never` line stay blank; the line
            // carries its own label.
            .y_label_formatter(&|y| {
                if *y >= never_y * 0.999 {
                    String::new()
                } else {
                    format!("{y:.1}")
                }
            })
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, never_y), (x_max, never_y)],
                BLACK.mix(0.3),
            ))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((0.0, never_y)) + Text::new("never", (6, -18), (FONT, 15)),
            ))
            .map_err(|e| e.to_string())?;
        let front_points: Vec<(f64, f64)> = front
            .iter()
            .filter_map(|p| Some((p.store_ops_per_thousand, y_of(p)?)))
            .collect();
        let front_style = color(1).stroke_width(2);
        chart
            .draw_series(LineSeries::new(front_points.iter().copied(), front_style))
            .map_err(|e| e.to_string())?
            .label("Pareto front (no point is better on both axes)")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], front_style));
        chart
            .draw_series(
                front_points
                    .iter()
                    .map(|&p| Circle::new(p, 8, color(1).stroke_width(2))),
            )
            .map_err(|e| e.to_string())?;
        let drawn: Vec<(&SweepPoint, (f64, f64))> = points
            .iter()
            .filter_map(|p| Some((p, (p.store_ops_per_thousand, y_of(p)?))))
            .collect();
        let pixels: Vec<(i32, i32)> = drawn
            .iter()
            .map(|(_, at)| chart.backend_coord(at))
            .collect();
        let offsets = label_offsets(&pixels);
        chart
            .draw_series(drawn.iter().zip(offsets).map(|(&(p, at), offset)| {
                EmptyElement::at(at)
                    + Circle::new((0, 0), 4, color(0).filled())
                    + Text::new(p.label.clone(), offset, (FONT, 15))
            }))
            .map_err(|e| e.to_string())?
            .label("configuration")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, color(0).filled()));
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

/// Places each point's label up and to the right of it, moving a label
/// up a line at a time while it would cover one placed before it.
fn label_offsets(pixels: &[(i32, i32)]) -> Vec<(i32, i32)> {
    const WIDTH: i32 = 110;
    const LINE: i32 = 17;
    let mut placed: Vec<(i32, i32)> = Vec::new();
    pixels
        .iter()
        .map(|&(x, y)| {
            let mut offset = (8, -LINE);
            while placed.iter().any(|&(px, py)| {
                (px - (x + offset.0)).abs() < WIDTH && (py - (y + offset.1)).abs() < LINE
            }) {
                offset.1 -= LINE;
            }
            placed.push((x + offset.0, y + offset.1));
            offset
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Never;

    fn point(label: &str, load: f64, delay: Option<Delay>, on_front: bool) -> SweepPoint {
        SweepPoint {
            label: label.to_string(),
            store_ops_per_thousand: load,
            revocation_delay: delay,
            on_front,
        }
    }

    fn sweep() -> Vec<SweepPoint> {
        let never = Some(Delay::Never(Never::Never));
        vec![
            point("ttl=0", 10.0, Some(Delay::Ms(0)), true),
            point("ttl=1m", 4.0, Some(Delay::Ms(60_000)), true),
            point("ttl=5m", 5.0, Some(Delay::Ms(300_000)), false),
            point("ttl=15m", 1.0, Some(Delay::Ms(900_000)), true),
            point("stateless", 0.0, never, true),
            point("unprobed", 0.0, None, true),
            point("worse", 12.0, never, false),
        ]
    }

    #[test]
    fn close_labels_move_apart() {
        let offsets = label_offsets(&[(100, 300), (102, 298), (400, 300), (101, 301)]);
        assert_eq!(offsets, [(8, -17), (8, -34), (8, -17), (8, -68)]);
    }

    #[test]
    fn percentile_labels_read_as_percent() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(2.0), "50%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
    }

    #[test]
    fn sweep_svg_is_xml_with_every_point() {
        let svg = sweep_svg("ttl sweep", &sweep()).unwrap();
        let document = roxmltree::Document::parse(&svg).unwrap();
        let texts: Vec<&str> = document
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .map(str::trim)
            .collect();
        for label in ["ttl=0", "ttl=1m", "ttl=5m", "ttl=15m", "stateless", "worse"] {
            assert!(texts.contains(&label), "{label} missing from {texts:?}");
        }
        assert!(!texts.contains(&"unprobed"), "{texts:?}");
        let rings = document
            .descendants()
            .filter(|n| n.has_tag_name("circle") && n.attribute("r") == Some("8"))
            .count();
        assert_eq!(rings, 4, "one ring per drawn point on the front");
        assert!(texts.contains(&"never"), "{texts:?}");
        assert!(
            texts.contains(&"store reads and writes per 1,000 requests"),
            "{texts:?}"
        );
    }
}
