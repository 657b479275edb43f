//! hipback: a 3D visualizer for low-back pain that comes from the hip.
//!
//! `anatomy` is the shared vocabulary, `modelgen` builds the pelvis model (pure geometry,
//! no ECS), `content` holds the side-panel facts, `viewer` is the Bevy app (one plugin per
//! capability) and `cli` the command line that starts it.

pub mod anatomy;
pub mod modelgen;

pub mod cli;
pub mod content;
pub mod viewer;
