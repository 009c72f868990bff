//! The browser tests: one test binary, so one headless Chromium (`common::browser`) serves
//! them all and they run side by side in browser contexts of their own, with one link step
//! for the whole set. A page family's tests are a module here.

#[path = "../common/mod.rs"]
mod common;

mod conversation;
mod home;
mod login;
mod oidc;
mod people;
mod room_controls;
mod sessions;
mod smoke;
mod war_room;
