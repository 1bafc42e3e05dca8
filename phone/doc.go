// Package phone is a CA mobile app (数字证书 APP) in Go: the phone simulator
// behind `scansign app` and `scansign demo`, and the "phone" of the
// end-to-end tests.
//
// Given a scanned QR payload ({"guid","url","city"}), an app account and a
// key with its certificate, App.Scan plays the app's side of every flow of
// the guide's section 三: it grants a token bound to the guid, fetches the
// operation (the relay moves it to status 1), checks that the certificate
// fits the operation's certType, does what the type asks and saves the
// result with `value` shaped exactly as the guide's 参数定义说明 tables say:
//
//	4 login    {"signStr": PKCS#7 attached over the nonce, "pubCert": base64 DER}
//	1 sign     PKCS#7 attached over the message
//	2 encrypt  the certificate, base64 DER
//	3 decrypt  the plaintext of the message (PKCS#7 EnvelopedData or raw SM2)
//	5 seal     {"signatureCompanyCode"} + extMessage {"caSerialId"} (status 2),
//	           then, once the seal control put the hash in (status 4),
//	           {"signStr","signatureCompanyCode","pubCert"}
//	6 revoke   PKCS#7 attached over the file hash in the message
//
// Each step is reported through App.Report as it happens, so a command line
// can print it. Options cover what real apps vary in (GM/T or standard OIDs,
// raw signatures where the value carries pubCert, declining with status 3)
// and, for tests, misbehaviour a relay and a trading system must survive
// (a tampered signature, ignoring certType).
//
// The package talks to the relay only over HTTP through relay/client: it is
// a client like any CA's app, and knows nothing of the server's insides.
package phone
