// Package store holds the two backends of seal.Store:
//
//   - Embedded: one bbolt file, DATA/seals.db (kept apart from the relay's
//     DATA/relay.db so either can be moved, backed up or deleted alone).
//     bbolt is a single-writer file lock: while `scansign seal serve` (or
//     `scansign serve` with the seal service) has it open, the CLI cannot
//     change it; use PostgreSQL to manage seals of a running service.
//   - Postgres: tables seal_users and seal_seals with their own migration
//     bookkeeping (seal_schema_migrations), so the seal service shares a
//     database with the relay's tables without either touching the other's.
//
// Both pass one conformance suite (store_test.go). Open picks the backend
// from a Config the way the CLI and the server do.
package store
