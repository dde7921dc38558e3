//! Multi-node tests and the benchmark harness of entraide.
