//! The entraide node.
pub mod community;
pub mod data_dir;
pub mod store;
