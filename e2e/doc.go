// Package e2e holds scansign's end-to-end tests: every flow of the guide's
// section 三 over real HTTP, with the relay on both stores (embedded bbolt
// and PostgreSQL), the phone simulator (package phone) playing the CA app,
// a trading system calling the guide's endpoints and the one-call results
// API, and what the app signs checked by other implementations
// (BouncyCastle for SM2, OpenSSL for RSA) and sealed PDFs by poppler's
// pdfsig and qpdf. It has no non-test code.
package e2e
