// Package verify answers "is this signature good, and whose is it?" for
// trading systems, seal controls and auditors: PKCS#7/CMS SignedData
// (attached or detached, with or without signed attributes, SM2/SM3 with
// GM/T 0010 or standard OIDs, RSA with SHA-256), raw SM2 and RSA
// signatures with the signer's certificate, checked against what was asked
// to be signed and against the trust store at the verification time. Every
// answer is one Result with a reason code and Chinese and English messages.
// It also serves the verification HTTP API (NewHandler). Envelopes are in
// the subpackage envelope, CMS syntax in cms.
package verify
