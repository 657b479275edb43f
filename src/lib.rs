//! hipback: a 3D visualizer for low-back pain that comes from the hip.
//!
//! `anatomy` is the shared vocabulary, `modelgen` builds the pelvis model (pure geometry,
//! no ECS), `content` holds the side-panel facts, `viewer` is the Bevy app's shell (model,
//! camera, picking, layers, panel), `scenario` the tension scenarios on top of it, `referral`
//! the heat maps and pain drawing, and `cli` the command line that starts it all.

pub mod anatomy;
pub mod modelgen;

pub mod app;
pub mod bench;
pub mod cli;
pub mod content;
pub mod files;
pub mod fuzz;
pub mod posture;
pub mod record;
pub mod referral;
pub mod scenario;
pub mod settings;
pub mod soak;
pub mod viewer;
