//! v4's geometric objects (`--pg-geometric-types`) built in SQL from the value: its points by
//! subscript or function where Postgres has one, else read from its text form as v4 reads it.

use super::{object, out_expr, Builder};
use crate::plan::{GeoOut, Out};
use crate::schema::geometry::{GeoPart, Geometry, PointOf};
use crate::sql::text::quote_literal;

/// The SQL expression of a point of the value `v`.
fn point(v: &str, kind: Geometry, of: PointOf) -> String {
    match (kind, of) {
        // `{A,B,C}` (Ax + By + C = 0): v4 sends the points where it crosses the axes; one it
        // cannot compute (a line parallel to that axis) is null here, null with an error there.
        (Geometry::Line, of) => {
            let coefficient =
                |i: u8| format!("(string_to_array(btrim(({v})::text, '{{}}'), ','))[{i}]::float8");
            let (a, b, c) = (coefficient(1), coefficient(2), coefficient(3));
            // `+ 0` turns -0 into 0, as JSON.stringify writes it.
            match of {
                PointOf::B => format!("point(0, -{c} / nullif({b}, 0) + 0)"),
                _ => format!("point(-{c} / nullif({a}, 0) + 0, 0)"),
            }
        }
        (Geometry::LineSegment, PointOf::B) => format!("(({v})::lseg)[1]"),
        (Geometry::LineSegment, _) => format!("(({v})::lseg)[0]"),
        (Geometry::Box, PointOf::B) => format!("(({v})::box)[1]"),
        (Geometry::Box, _) => format!("(({v})::box)[0]"),
        (_, _) => format!("center(({v})::circle)"),
    }
}

/// The JSON object of the geometric value `v` with the selected fields.
pub(super) fn geometry_object(
    b: &mut Builder,
    v: &str,
    kind: Geometry,
    parts: &[(String, GeoOut)],
) -> String {
    let pairs: Vec<(String, String)> = parts
        .iter()
        .map(|(key, part)| {
            let value = match part {
                GeoOut::Typename => quote_literal(kind.names().0),
                GeoOut::Point(GeoPart::Points, sel) => {
                    // The points of a path or polygon, in its text form's order.
                    let m = b.alias();
                    let p = format!("point(({m})[1]::float8, ({m})[2]::float8)");
                    let item = out_expr(b, &p, &Out::Point(sel.clone()));
                    format!(
                        "(select json_agg({item}) from regexp_matches(({v})::text, '\\(([^(),]+),([^(),]+)\\)', 'g') as {m})"
                    )
                }
                GeoOut::Point(GeoPart::Point(of), sel) => {
                    out_expr(b, &point(v, kind, *of), &Out::Point(sel.clone()))
                }
                GeoOut::Scalar(GeoPart::IsOpen) => format!("isopen(({v})::path)"),
                GeoOut::Scalar(_) => format!("radius(({v})::circle)"),
                GeoOut::Point(..) => "null".into(),
            };
            (key.clone(), value)
        })
        .collect();
    format!(
        "(case when {v} is null then null else {} end)",
        object(&pairs)
    )
}
