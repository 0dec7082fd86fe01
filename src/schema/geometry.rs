//! PostgreSQL's geometric types as v4's `pgGeometricTypes` option exposes them
//! (`--pg-geometric-types`): `Line`, `LineSegment`, `Box`, `Path`, `Polygon` and `Circle`
//! objects made of `Point`s, with inputs of the same shape. Without the option they are
//! strings (their text form), as in v4.

/// One geometric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Geometry {
    Line,
    LineSegment,
    Box,
    Path,
    Polygon,
    Circle,
}

/// A field of a geometric object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeoPart {
    /// A point (`a`, `b`, `center`).
    Point(PointOf),
    /// The points of a path or polygon.
    Points,
    IsOpen,
    Radius,
}

/// Which point of the value a `GeoPart::Point` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointOf {
    A,
    B,
    Center,
}

const A_B: &[(&str, GeoPart)] = &[
    ("a", GeoPart::Point(PointOf::A)),
    ("b", GeoPart::Point(PointOf::B)),
];

impl Geometry {
    /// The geometric type of a `pg_catalog` type name.
    pub fn of_pg(name: &str) -> Option<Geometry> {
        Some(match name {
            "line" => Geometry::Line,
            "lseg" => Geometry::LineSegment,
            "box" => Geometry::Box,
            "path" => Geometry::Path,
            "polygon" => Geometry::Polygon,
            "circle" => Geometry::Circle,
            _ => return None,
        })
    }

    /// The output object's name (v4's) and its input's.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Geometry::Line => ("Line", "LineInput"),
            Geometry::LineSegment => ("LineSegment", "LineSegmentInput"),
            Geometry::Box => ("Box", "BoxInput"),
            Geometry::Path => ("Path", "PathInput"),
            Geometry::Polygon => ("Polygon", "PolygonInput"),
            Geometry::Circle => ("Circle", "CircleInput"),
        }
    }

    /// v4's description of the object and of its input (its words, typos kept).
    pub fn description(self) -> Option<&'static str> {
        match self {
            Geometry::Line => Some("An infinite line that passes through points 'a' and 'b'."),
            Geometry::LineSegment => Some("An finite line between points 'a' and 'b'."),
            Geometry::Box => Some("A rectangular box defined by two opposite corners 'a' and 'b'"),
            Geometry::Path => Some("A path (open or closed) made up of points"),
            Geometry::Polygon | Geometry::Circle => None,
        }
    }

    /// The fields, in v4's order.
    pub fn fields(self) -> &'static [(&'static str, GeoPart)] {
        match self {
            Geometry::Line | Geometry::LineSegment | Geometry::Box => A_B,
            Geometry::Path => &[("points", GeoPart::Points), ("isOpen", GeoPart::IsOpen)],
            Geometry::Polygon => &[("points", GeoPart::Points)],
            Geometry::Circle => &[
                ("center", GeoPart::Point(PointOf::Center)),
                ("radius", GeoPart::Radius),
            ],
        }
    }
}

/// The description of `Path.isOpen` (v4's).
pub const IS_OPEN_DESCRIPTION: &str =
    "True if this is a closed path (similar to a polygon), false otherwise.";
