//! The entraide node.
