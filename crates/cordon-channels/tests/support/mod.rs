//! Test harnesses shared by the integration tests of cordon-channels.

pub mod synapse;
