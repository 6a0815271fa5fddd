//! Tests of the attribution engine: hand-computed cases per model, Markov
//! and Shapley against independent computations, and properties
//! (conservation, thread-count and row-order independence) on random data.

mod aipl;
mod api;
mod fixtures;
mod input;
mod markov;
mod properties;
mod rules;
mod shapley;
