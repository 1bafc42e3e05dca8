package pdfsign

import (
	"bytes"
	"encoding/asn1"
	"math/big"
	"time"

	"github.com/scansign/scansign/verify"
	vcms "github.com/scansign/scansign/verify/cms"
)

// A revocation (撤章) must be a fresh act of the signer. The guide has the
// app sign the seal's hash to take it back, and in the p7hash shape the
// seal itself is a PKCS#7 over that same hash: without these rules anyone
// holding the sealed PDF could cut the seal's own signature out of
// /Contents and hand it back as the revocation. So a revocation is refused
// when
//
//   - it is byte for byte, or has the same signature value as, any
//     signature already in the document (RSA PKCS #1 v1.5 is deterministic:
//     an app that signs the same hash text the same way, without signed
//     attributes, to seal and to revoke produces the very same value, and
//     that is indistinguishable from a replay);
//   - it is a detached signature, or one whose digest is the hash itself
//     (verify's "prehashed" form): that is a signature over the document's
//     byte ranges — what a seal is — not over the hash as data;
//   - it claims a signing time before the seal's. Both times are whole
//     seconds (UTCTime), and a revocation made in the same second as the
//     seal is a real case (a local tool seals and revokes at once, a
//     control revokes a seal it has just made), so the same second is
//     accepted: a replay from that second is caught by the value rule.

// refuseReplay refuses a revocation signature that already is in the
// document, or that is not a PKCS#7 with the hash attached.
func refuseReplay(sigs []*sigField, sigBytes []byte) error {
	revValues := [][]byte{sigBytes}
	rev, err := vcms.ParseSignedData(sigBytes)
	if err == nil {
		revValues = revValues[:0]
		for _, si := range rev.Signers {
			revValues = append(revValues, si.Signature)
		}
	}
	trimmed := bytes.TrimRight(sigBytes, "\x00")
	for _, s := range sigs {
		if s.empty() {
			continue
		}
		if bytes.Equal(bytes.TrimRight(s.contents, "\x00"), trimmed) {
			return replayed(s.name)
		}
		sd, err := vcms.ParseSignedData(s.contents)
		if err != nil {
			continue
		}
		for _, si := range sd.Signers {
			for _, v := range revValues {
				if sameSignatureValue(si.Signature, v) {
					return replayed(s.name)
				}
			}
		}
	}
	if rev != nil && rev.Detached {
		return fail(CodeBadSignature,
			"撤章签名须为附原文（签章 hash）的 PKCS#7；不附原文的签名是对文档本身的签名，不能用于撤章",
			"a revocation is a PKCS#7 with the seal's hash attached; a detached signature signs the document itself, not the hash", nil)
	}
	return nil
}

func replayed(field string) error {
	return fail(CodeNotFresh,
		"撤章签名与文档中签章 "+field+" 的签名相同：撤章须由签章人重新签名（不能重放已有签名）",
		"the revocation carries the same signature as "+field+" in the document: a revocation must be signed anew, not replayed", nil)
}

// refuseNotFresh refuses a verified revocation that signs the hash in the
// document's form (prehashed) or claims to be older than the seal.
func refuseNotFresh(res *verify.Result, sealTime *time.Time) error {
	if res.ContentForm != verify.FormHexText && res.ContentForm != verify.FormRawHash {
		return fail(CodeBadSignature,
			"撤章签名须以签章 hash（十六进制文本或其字节）为原文；以 hash 为摘要的签名是对文档本身的签名，不能用于撤章",
			"a revocation signs the seal's hash as data (hex text or its bytes); a signature using the hash as its digest signs the document itself", nil)
	}
	if res.SigningTime != nil && sealTime != nil && res.SigningTime.Truncate(time.Second).Before(sealTime.Truncate(time.Second)) {
		return fail(CodeNotFresh,
			"撤章签名的签名时间 "+res.SigningTime.Format(time.RFC3339)+" 早于签章时间 "+sealTime.Format(time.RFC3339)+"，不是新的撤章签名",
			"the revocation claims a signing time "+res.SigningTime.Format(time.RFC3339)+" before the seal's "+sealTime.Format(time.RFC3339)+": it is not a fresh revocation", nil)
	}
	return nil
}

// sameSignatureValue compares two signature values as values: an SM2/ECDSA
// signature as its (r, s) pair whether DER or 64-byte r‖s, an RSA one as
// a number (leading zero bytes aside).
func sameSignatureValue(a, b []byte) bool {
	ra, sa, okA := ecPair(a)
	rb, sb, okB := ecPair(b)
	if okA && okB {
		return ra.Cmp(rb) == 0 && sa.Cmp(sb) == 0
	}
	return len(a) > 0 && bytes.Equal(bytes.TrimLeft(a, "\x00"), bytes.TrimLeft(b, "\x00"))
}

func ecPair(sig []byte) (r, s *big.Int, ok bool) {
	var v struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &v); err == nil && len(rest) == 0 && v.R != nil && v.S != nil {
		return v.R, v.S, true
	}
	if len(sig) == 64 {
		return new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]), true
	}
	return nil, nil, false
}
