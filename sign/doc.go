// Package sign makes the signatures CA apps make: PKCS#7/CMS SignedData
// (attached or detached, with signed attributes by default) for SM2 with
// GM/T 0010 or standard OIDs and for RSA with SHA-256, and raw signatures —
// SM2 (DER or 64-byte r||s, with the SM2 user ID) and RSA PKCS#1 v1.5. The
// phone simulator, `scansign pdf sign` and the interop tests use it; what it
// makes is checked by BouncyCastle and OpenSSL in verify's tests.
package sign
