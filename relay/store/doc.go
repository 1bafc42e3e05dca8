// Package store is where the relay keeps its tokens and operations: one
// interface, Store, with two implementations that pass one shared test suite
// (package storetest): boltstore, an embedded file for a single instance, and
// pgstore, PostgreSQL for several stateless instances behind a load balancer.
//
// The store knows nothing of roles or the status machine: the relay decides
// what may change and writes whole operations back with a compare-and-swap on
// their version, so two instances (or two goroutines) racing on one operation
// never both win. Every change bumps the version, which is also what Wait
// watches, so a caller can wait for an operation to change instead of polling.
package store
