// Package testpki hands tests the dev PKI committed in testdata/pki: SM2
// and RSA roots, issuing CAs with CRLs, person, organisation, expired,
// revoked and untrusted leaves (`scansign pki init`, valid until 2056; the
// BouncyCastle and OpenSSL fixtures in testdata/interop were made with its
// keys). Loading it takes milliseconds, where generating one spends
// seconds on RSA keys under -race in every test binary.
//
// Tests only read it. A test that issues leaves, or checks what Generate
// writes, makes its own PKI with devpki.Generate in a temporary directory.
package testpki
