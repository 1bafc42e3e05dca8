// Package pgstore is the relay's PostgreSQL store, for several stateless
// scansign instances behind a load balancer: every token and operation is a
// row, so any instance answers any call and a restart loses nothing.
//
// Tables are prefixed relay_ (relay_tokens, relay_operations and
// relay_schema_migrations), so other parts of scansign can keep their own
// tables in the same database. Open creates or migrates the schema under an
// advisory lock, so instances starting together do not race.
//
// Each call is one statement (one round trip): creating an operation binds
// the token in the same statement, reading a token and its operation is one
// join, and an update is a compare-and-swap on the version. After an update
// commits, the GUID goes out on the channel relay_operation_changed (batched
// by one notifier per instance), which every instance LISTENs on to wake its
// local waiters (Wait).
package pgstore
