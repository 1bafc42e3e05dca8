// Package pgstore is the relay's PostgreSQL store, for several stateless
// scansign instances behind a load balancer: every token and operation is a
// row, so any instance answers any call and a restart loses nothing.
//
// Tables are prefixed relay_ (relay_tokens, relay_operations and
// relay_schema_migrations), so other parts of scansign can keep their own
// tables in the same database. Open creates or migrates the schema under an
// advisory lock, so instances starting together do not race.
//
// Each call is one statement: creating an operation binds the token in the
// same statement, reading a token and its operation is one join, and an
// update is a compare-and-swap on the version. Concurrent calls share round
// trips: reads queued while the previous batch of reads was at the server go
// together in the next one, and so do writes, each batch of writes being one
// transaction with one commit (batch.go). That makes a flow of the relay cost
// about half the CPU it cost with one round trip and one commit per call.
//
// Durability: every write (a token grant, a new operation, a status change)
// is committed with PostgreSQL's synchronous_commit before the call returns,
// so nothing a caller was told is stored can be lost by a crash of
// PostgreSQL or of the machine; what a crash interrupts is a batch whose
// callers were not answered yet, and their writes are then either all in
// the database or none. Setting synchronous_commit=off in the database URL
// trades that for less waiting: a PostgreSQL crash may then lose the
// writes of its last ~0.6 s (never on a clean restart).
//
// After an update commits, the GUID goes out on the channel
// relay_operation_changed (batched by one notifier per instance), which every
// instance LISTENs on to wake its local waiters (Wait).
package pgstore
