//! On-call schedules: who is on call for a schedule at an instant, and the final shifts over a
//! window for display.
//!
//! A [`Schedule`] has a name, an IANA time zone and one or more [`Layer`]s. Each layer is a
//! rotation — an ordered list of users taking turns of one shift length (an ISO 8601 span such
//! as `P7D` or `PT12H`) counted from a handoff instant — optionally restricted to windows of
//! local time ([`Restriction`]) and to an active period. Where several layers have someone on
//! call, the **later** layer wins (PagerDuty's "bottom layer takes precedence"); where a layer
//! has nobody (outside its windows), the next one down shows through. [`Override`]s beat every
//! layer and never overlap one another.
//!
//! All arithmetic happens in wall-clock time in the schedule's zone (see the `rotation`
//! module), so handoffs and windows keep their local hours across DST changes. Every query is
//! a pure function of the schedule and the instants passed in; no loop runs longer than the
//! number of shifts in the window asked about (at most [`MAX_LISTING`] long).

pub mod restriction;
mod rotation;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, SpanFieldwise, Timestamp};
use serde::{Deserialize, Serialize};

pub use self::restriction::{Restriction, RestrictionSpec};
use self::restriction::{canonical_windows, window_instances};
use self::rotation::{Rotation, approx_seconds};
use crate::error::NotifyError;
use crate::parse;

/// Most layers a schedule may have.
pub const MAX_LAYERS: usize = 10;
/// Most users in one layer's rotation.
pub const MAX_USERS_PER_LAYER: usize = 500;
/// Most restrictions on one layer.
pub const MAX_RESTRICTIONS_PER_LAYER: usize = 32;
/// Shortest shift: one hour (as PagerDuty and GoAlert). Months count as 1/12 of a year.
pub const MIN_SHIFT: SignedDuration = SignedDuration::from_hours(1);
/// Longest shift: 366 days (`P1Y` and `P12M` fit).
pub const MAX_SHIFT: SignedDuration = SignedDuration::from_hours(366 * 24);
/// Longest window [`Schedule::shifts`] lists.
pub const MAX_LISTING: SignedDuration = SignedDuration::from_hours(400 * 24);

/// Bound on the rotation shifts one layer walks in one computation. Legitimate queries need at
/// most about 9 700 (a [`MAX_LISTING`] window of one-hour shifts); only absurd instants at the
/// edges of representable time could ask for more, and they are cut off here.
const MAX_SHIFTS_PER_SCAN: usize = 20_000;

/// A validated on-call schedule. Build it with [`Schedule::parse`].
///
/// Serializes as its [`ScheduleSpec`]; deserializing validates again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ScheduleSpec", into = "ScheduleSpec")]
pub struct Schedule {
    name: String,
    time_zone_name: String,
    tz: TimeZone,
    layers: Vec<Layer>,
    /// Sorted by start; pairwise disjoint.
    overrides: Vec<Override>,
}

/// One layer of a schedule: a rotation, optionally restricted in time.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    users: Vec<String>,
    shift: SpanFieldwise,
    handoff: Timestamp,
    restrictions: Vec<Restriction>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    rotation: Rotation,
    /// Merged weekly windows; `None` means on duty all the time.
    windows: Option<Vec<(u32, u32)>>,
}

/// A user on call in place of the layers from `start` to `end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    user: String,
    start: Timestamp,
    end: Timestamp,
}

/// Where an on-call assignment comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// The layer at this index of [`Schedule::layers`].
    Layer(usize),
    /// The override at this index of [`Schedule::overrides`] (sorted by start).
    Override(usize),
}

/// Who is on call at an instant, and the stretch of the final schedule they hold: from
/// `shift_start` to `shift_end` the same user is on call from the same shift of the same
/// source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnCall {
    pub user: String,
    pub source: Source,
    pub shift_start: Timestamp,
    pub shift_end: Timestamp,
}

/// One entry of the final schedule over a window, clipped to that window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    pub user: String,
    pub source: Source,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// The unvalidated form of a [`Schedule`], as it arrives from a caller or is stored. Field
/// names follow `POST /api/v1/oncall/schedules`; `rotations` is accepted for `layers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    pub name: String,
    /// An IANA zone name such as `Europe/Berlin`.
    pub time_zone: String,
    #[serde(alias = "rotations")]
    pub layers: Vec<LayerSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<OverrideSpec>,
}

/// The unvalidated form of a [`Layer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    /// The rotation order.
    pub users: Vec<String>,
    /// Shift length, an ISO 8601 duration: `P7D`, `P1D`, `PT12H`, `P1M`…
    pub shift: String,
    /// RFC 3339 instant at which `users[0]`'s shift starts. Its wall-clock time in the
    /// schedule's zone is the handoff time of every shift.
    pub handoff: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restrictions: Vec<RestrictionSpec>,
    /// RFC 3339 instant before which the layer is inactive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// RFC 3339 instant from which the layer is inactive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// The unvalidated form of an [`Override`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideSpec {
    pub user: String,
    /// RFC 3339.
    pub start: String,
    /// RFC 3339.
    pub end: String,
}

impl Override {
    /// An override of `user` over `[start, end)`; refuses an empty or reversed interval.
    pub fn new(user: &str, start: Timestamp, end: Timestamp) -> Result<Self, NotifyError> {
        Self::build("override", user, start, end)
    }

    /// Validates `spec`.
    pub fn parse(spec: &OverrideSpec) -> Result<Self, NotifyError> {
        Self::parse_at("override", spec)
    }

    fn parse_at(field: &str, spec: &OverrideSpec) -> Result<Self, NotifyError> {
        let start = parse::instant(&format!("{field}.start"), &spec.start)?;
        let end = parse::instant(&format!("{field}.end"), &spec.end)?;
        Self::build(field, &spec.user, start, end)
    }

    fn build(field: &str, user: &str, start: Timestamp, end: Timestamp) -> Result<Self, NotifyError> {
        let user = parse::name(&format!("{field}.user"), user)?;
        if start >= end {
            return Err(NotifyError::invalid(format!("{field}.end"), "must be after start"));
        }
        Ok(Self { user, start, end })
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn start(&self) -> Timestamp {
        self.start
    }

    pub fn end(&self) -> Timestamp {
        self.end
    }

    fn overlaps(&self, other: &Override) -> bool {
        self.start < other.end && other.start < self.end
    }

    fn overlap_error(&self, other: &Override) -> NotifyError {
        NotifyError::OverlappingOverrides {
            user: self.user.clone(),
            start: self.start,
            end: self.end,
            other_user: other.user.clone(),
            other_start: other.start,
            other_end: other.end,
        }
    }

    pub fn to_spec(&self) -> OverrideSpec {
        OverrideSpec {
            user: self.user.clone(),
            start: self.start.to_string(),
            end: self.end.to_string(),
        }
    }
}

impl Layer {
    fn parse(field: &str, spec: &LayerSpec, tz: &TimeZone) -> Result<Self, NotifyError> {
        if spec.users.is_empty() {
            return Err(NotifyError::invalid(
                format!("{field}.users"),
                "a rotation needs at least one user",
            ));
        }
        if spec.users.len() > MAX_USERS_PER_LAYER {
            return Err(NotifyError::invalid(
                format!("{field}.users"),
                format!("at most {MAX_USERS_PER_LAYER} users per layer"),
            ));
        }
        let users = spec
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| parse::name(&format!("{field}.users[{i}]"), u))
            .collect::<Result<Vec<_>, _>>()?;
        let shift_field = format!("{field}.shift");
        let shift = parse::span(&shift_field, &spec.shift)?;
        let secs = approx_seconds(shift);
        if secs < MIN_SHIFT.as_secs_f64() {
            return Err(NotifyError::invalid(
                shift_field,
                "a shift lasts at least one hour (PT1H)",
            ));
        }
        if secs > MAX_SHIFT.as_secs_f64() {
            return Err(NotifyError::invalid(shift_field, "a shift lasts at most a year (P1Y)"));
        }
        let handoff = parse::instant(&format!("{field}.handoff"), &spec.handoff)?;
        if spec.restrictions.len() > MAX_RESTRICTIONS_PER_LAYER {
            return Err(NotifyError::invalid(
                format!("{field}.restrictions"),
                format!("at most {MAX_RESTRICTIONS_PER_LAYER} restrictions per layer"),
            ));
        }
        let restrictions = spec
            .restrictions
            .iter()
            .enumerate()
            .map(|(i, r)| Restriction::parse(&format!("{field}.restrictions[{i}]"), r))
            .collect::<Result<Vec<_>, _>>()?;
        let start = spec
            .start
            .as_deref()
            .map(|s| parse::instant(&format!("{field}.start"), s))
            .transpose()?;
        let end = spec
            .end
            .as_deref()
            .map(|s| parse::instant(&format!("{field}.end"), s))
            .transpose()?;
        if let (Some(start), Some(end)) = (start, end)
            && start >= end
        {
            return Err(NotifyError::invalid(format!("{field}.end"), "must be after start"));
        }
        let windows = canonical_windows(&restrictions);
        Ok(Self {
            rotation: Rotation::new(tz.clone(), handoff, shift),
            users,
            shift: shift.fieldwise(),
            handoff,
            restrictions,
            start,
            end,
            windows,
        })
    }

    /// The rotation order.
    pub fn users(&self) -> &[String] {
        &self.users
    }

    pub fn shift(&self) -> Span {
        self.shift.0
    }

    pub fn handoff(&self) -> Timestamp {
        self.handoff
    }

    pub fn restrictions(&self) -> &[Restriction] {
        &self.restrictions
    }

    /// Before this instant the layer has nobody on call.
    pub fn start(&self) -> Option<Timestamp> {
        self.start
    }

    /// From this instant the layer has nobody on call.
    pub fn end(&self) -> Option<Timestamp> {
        self.end
    }

    pub fn to_spec(&self) -> LayerSpec {
        LayerSpec {
            users: self.users.clone(),
            shift: self.shift.0.to_string(),
            handoff: self.handoff.to_string(),
            restrictions: self.restrictions.iter().map(Restriction::to_spec).collect(),
            start: self.start.map(|t| t.to_string()),
            end: self.end.map(|t| t.to_string()),
        }
    }

    fn user_index(&self, k: i64) -> usize {
        let n = i64::try_from(self.users.len()).unwrap_or(i64::MAX);
        usize::try_from(k.rem_euclid(n)).unwrap_or(0)
    }

    /// This layer's on-call pieces (a rotation shift cut by the active period and the
    /// restriction windows) that intersect `[lo, hi)`, in time order, not clipped to it.
    fn pieces(&self, lo: Timestamp, hi: Timestamp) -> Vec<Piece> {
        let active_lo = self.start.unwrap_or(Timestamp::MIN);
        let active_hi = self.end.unwrap_or(Timestamp::MAX);
        let (rlo, rhi) = (lo.max(active_lo), hi.min(active_hi));
        if rlo >= rhi {
            return Vec::new();
        }
        let Some(mut k) = self.rotation.index_at(rlo) else {
            return Vec::new();
        };
        let mut shifts = Vec::new();
        let mut start = self.rotation.boundary(k);
        for _ in 0..MAX_SHIFTS_PER_SCAN {
            if start >= rhi {
                break;
            }
            let Some(next) = k.checked_add(1) else { break };
            let end = self.rotation.boundary(next);
            let (s, e) = (start.max(active_lo), end.min(active_hi));
            if s < e {
                shifts.push(Piece {
                    start: s,
                    end: e,
                    user: self.user_index(k),
                });
            }
            k = next;
            start = end;
        }
        let Some(windows) = &self.windows else {
            return shifts;
        };
        let tz = self.rotation.time_zone();
        let instances: Vec<(Timestamp, Timestamp)> = window_instances(tz, windows, rlo, rhi)
            .into_iter()
            .map(|(s, e)| (s.max(active_lo), e.min(active_hi)))
            .filter(|(s, e)| s < e)
            .collect();
        // Both lists are sorted and internally disjoint: intersect them pairwise.
        let mut pieces = Vec::new();
        let (mut i, mut j) = (0, 0);
        while let (Some(shift), Some(&(ws, we))) = (shifts.get(i), instances.get(j)) {
            let (s, e) = (shift.start.max(ws), shift.end.min(we));
            if s < e && e > lo && s < hi {
                pieces.push(Piece {
                    start: s,
                    end: e,
                    user: shift.user,
                });
            }
            if shift.end < we {
                i += 1;
            } else {
                j += 1;
            }
        }
        pieces
    }
}

/// A stretch of one layer with one user on call.
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: Timestamp,
    end: Timestamp,
    /// Index into the layer's users.
    user: usize,
}

impl Schedule {
    /// Validates `spec`: a name, a known IANA time zone, 1–[`MAX_LAYERS`] layers each with
    /// users, a shift of one hour to one year and a handoff instant, and overrides that do
    /// not overlap. Errors name the offending field (`layers[1].shift`).
    pub fn parse(spec: &ScheduleSpec) -> Result<Self, NotifyError> {
        let name = parse::name("name", &spec.name)?;
        let zone = spec.time_zone.trim();
        let tz = TimeZone::get(zone).map_err(|_| NotifyError::UnknownTimeZone(zone.to_owned()))?;
        let time_zone_name = tz.iana_name().unwrap_or(zone).to_owned();
        if spec.layers.is_empty() {
            return Err(NotifyError::invalid("layers", "a schedule needs at least one layer"));
        }
        if spec.layers.len() > MAX_LAYERS {
            return Err(NotifyError::invalid("layers", format!("at most {MAX_LAYERS} layers")));
        }
        let layers = spec
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| Layer::parse(&format!("layers[{i}]"), l, &tz))
            .collect::<Result<Vec<_>, _>>()?;
        let mut overrides = spec
            .overrides
            .iter()
            .enumerate()
            .map(|(i, o)| Override::parse_at(&format!("overrides[{i}]"), o))
            .collect::<Result<Vec<_>, _>>()?;
        overrides.sort_by_key(|o| (o.start, o.end));
        // Sorted by start, any overlap shows between neighbours.
        if let Some(pair) = overrides.windows(2).find(|w| w[0].overlaps(&w[1])) {
            return Err(pair[1].overlap_error(&pair[0]));
        }
        Ok(Self {
            name,
            time_zone_name,
            tz,
            layers,
            overrides,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The IANA name of the schedule's zone.
    pub fn time_zone_name(&self) -> &str {
        &self.time_zone_name
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// In precedence order: a later layer wins over an earlier one.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Sorted by start; pairwise disjoint.
    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    /// Every user named by a layer or an override, for the caller to check they exist.
    pub fn users(&self) -> BTreeSet<&str> {
        self.layers
            .iter()
            .flat_map(|l| l.users.iter())
            .chain(self.overrides.iter().map(|o| &o.user))
            .map(String::as_str)
            .collect()
    }

    /// Adds an override, refusing one that overlaps an existing override. Returns its index
    /// in [`Schedule::overrides`].
    pub fn add_override(&mut self, new: Override) -> Result<usize, NotifyError> {
        let at = self
            .overrides
            .partition_point(|o| (o.start, o.end) < (new.start, new.end));
        for neighbour in [at.checked_sub(1), Some(at)].into_iter().flatten() {
            if let Some(existing) = self.overrides.get(neighbour)
                && existing.overlaps(&new)
            {
                return Err(new.overlap_error(existing));
            }
        }
        self.overrides.insert(at, new);
        Ok(at)
    }

    /// Removes the override equal to `which`; returns whether there was one.
    pub fn remove_override(&mut self, which: &Override) -> bool {
        let before = self.overrides.len();
        self.overrides.retain(|o| o != which);
        self.overrides.len() != before
    }

    /// Who is on call at `now`: the override covering `now` if any, else the latest layer with
    /// someone on call. `None` when nobody is (a gap between restriction windows, say).
    pub fn on_call_at(&self, now: Timestamp) -> Option<OnCall> {
        let i = self.overrides.partition_point(|o| o.end <= now);
        if let Some(o) = self.overrides.get(i)
            && o.start <= now
        {
            return Some(OnCall {
                user: o.user.clone(),
                source: Source::Override(i),
                shift_start: o.start,
                shift_end: o.end,
            });
        }
        let just_after = now.checked_add(SignedDuration::from_nanos(1)).ok()?;
        for (index, layer) in self.layers.iter().enumerate().rev() {
            let Some(piece) = layer
                .pieces(now, just_after)
                .into_iter()
                .find(|p| p.start <= now && now < p.end)
            else {
                continue;
            };
            // The piece holds `now`; overrides and later layers may cut it short.
            return self
                .sweep(piece.start, piece.end, index)
                .into_iter()
                .find(|s| s.start <= now && now < s.end)
                .map(|s| OnCall {
                    user: s.user,
                    source: s.source,
                    shift_start: s.start,
                    shift_end: s.end,
                });
        }
        None
    }

    /// The final schedule over `[from, to)`: who is on call when, after layers and overrides
    /// are combined, in time order and clipped to the window. Stretches with nobody on call are
    /// absent. Refuses a reversed window or one longer than [`MAX_LISTING`].
    pub fn shifts(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Shift>, NotifyError> {
        if from >= to {
            return Err(NotifyError::InvalidWindow(format!(
                "from ({from}) must be before to ({to})"
            )));
        }
        if to.duration_since(from) > MAX_LISTING {
            return Err(NotifyError::InvalidWindow(format!(
                "at most {} days at a time",
                MAX_LISTING.as_hours() / 24
            )));
        }
        Ok(self.sweep(from, to, 0))
    }

    /// The final schedule over `[lo, hi)` considering overrides and layers from `lowest_layer`
    /// up. Every source's entries are sorted and disjoint, so one sweep over their boundaries
    /// decides the winner of each elementary interval; neighbours with the same winner merge.
    fn sweep(&self, lo: Timestamp, hi: Timestamp, lowest_layer: usize) -> Vec<Shift> {
        struct Lane<'a> {
            source: Source,
            entries: Vec<(Timestamp, Timestamp, &'a str)>,
        }
        let first_override = self.overrides.partition_point(|o| o.end <= lo);
        let mut lanes = vec![Lane {
            source: Source::Override(first_override),
            entries: self.overrides[first_override..]
                .iter()
                .take_while(|o| o.start < hi)
                .map(|o| (o.start, o.end, o.user.as_str()))
                .collect(),
        }];
        for (index, layer) in self.layers.iter().enumerate().rev() {
            if index < lowest_layer {
                break;
            }
            lanes.push(Lane {
                source: Source::Layer(index),
                entries: layer
                    .pieces(lo, hi)
                    .into_iter()
                    .map(|p| (p.start, p.end, layer.users[p.user].as_str()))
                    .collect(),
            });
        }

        let mut points = vec![lo, hi];
        for lane in &lanes {
            for &(s, e, _) in &lane.entries {
                points.extend([s, e].into_iter().filter(|t| lo < *t && *t < hi));
            }
        }
        points.sort_unstable();
        points.dedup();

        let mut cursors = vec![0usize; lanes.len()];
        let mut out: Vec<Shift> = Vec::new();
        let mut previous: Option<(usize, usize)> = None;
        for pair in points.windows(2) {
            let (p, q) = (pair[0], pair[1]);
            let mut winner = None;
            for (lane_index, lane) in lanes.iter().enumerate() {
                let cursor = &mut cursors[lane_index];
                while lane.entries.get(*cursor).is_some_and(|e| e.1 <= p) {
                    *cursor += 1;
                }
                if lane.entries.get(*cursor).is_some_and(|e| e.0 <= p) {
                    winner = Some((lane_index, *cursor));
                    break;
                }
            }
            let Some((lane_index, entry)) = winner else {
                previous = None;
                continue;
            };
            if previous == Some((lane_index, entry))
                && let Some(last) = out.last_mut()
                && last.end == p
            {
                last.end = q;
            } else {
                let lane = &lanes[lane_index];
                let source = match lane.source {
                    Source::Override(first) => Source::Override(first + entry),
                    layer => layer,
                };
                out.push(Shift {
                    user: lane.entries[entry].2.to_owned(),
                    source,
                    start: p,
                    end: q,
                });
            }
            previous = Some((lane_index, entry));
        }
        out
    }

    /// Back to the unvalidated form (round-trips through [`Schedule::parse`]).
    pub fn to_spec(&self) -> ScheduleSpec {
        ScheduleSpec {
            name: self.name.clone(),
            time_zone: self.time_zone_name.clone(),
            layers: self.layers.iter().map(Layer::to_spec).collect(),
            overrides: self.overrides.iter().map(Override::to_spec).collect(),
        }
    }
}

impl TryFrom<ScheduleSpec> for Schedule {
    type Error = NotifyError;

    fn try_from(spec: ScheduleSpec) -> Result<Self, Self::Error> {
        Self::parse(&spec)
    }
}

impl From<Schedule> for ScheduleSpec {
    fn from(schedule: Schedule) -> Self {
        schedule.to_spec()
    }
}
