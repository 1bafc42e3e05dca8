// Package boltstore is the relay's embedded store: one bbolt file
// (DATA/relay.db) for a single scansign instance, surviving restarts.
//
// Why bbolt: it is pure Go (no cgo, one static binary), a single file with
// ACID transactions, and its access pattern — point reads and writes by key,
// plus a range scan for purging by expiry — is exactly what the relay needs;
// SQLite would bring SQL we do not use and a larger dependency.
//
// Why our own group commit: bbolt allows one writer at a time and every
// commit is an fsync, so a write per transaction would cap the relay at one
// write per fsync. Writes are therefore queued to a single committer
// goroutine that takes everything queued so far and commits it in one
// transaction (one fsync), then answers each caller. Unlike bbolt's
// DB.Batch, which waits a fixed MaxBatchDelay before committing, the
// committer starts as soon as the previous commit ends, so an idle relay
// answers after one fsync and a busy one batches as much as arrived during
// the last fsync (after a large commit it lingers up to 2 ms for the callers
// it just answered, who return together). BenchmarkWrites compares the two,
// as does the relay's BenchmarkRelayFlow.
//
// A write function checks everything before it writes anything, so a refused
// write (not found, conflict, already bound) leaves the shared transaction
// untouched; any other error rolls the transaction back and each write in it
// is retried in a transaction of its own.
package boltstore
