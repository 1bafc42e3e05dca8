// Package certs is scansign's one place for certificates: parsing SM2, RSA
// and ECDSA certificates from PEM, DER or bare base64 (as CA apps send
// pubCert), the facts a trading system needs about a signer (serial, names,
// person or organisation, 统一社会信用代码), private keys (PKCS#8 plain or
// encrypted, PKCS#12/.pfx including SM2 ones), and the trust store: the set
// of mutually recognised CA roots and intermediates with their CRLs, chain
// building at a given time, revocation, and a bounded cache of verified
// chains.
//
// Serial numbers are printed and keyed only through SerialHex and
// NormalizeSerial. Development PKIs are made by the subpackage devpki.
package certs
