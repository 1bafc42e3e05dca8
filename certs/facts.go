package certs

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// Facts is what a trading system needs to know about a certificate, as
// JSON. It is the login result of the guide's 三.1 and the signer of every
// verification result.
type Facts struct {
	// Serial is the serial as CAs print it (SerialHex: uppercase hex, no
	// leading zeros, no separators); SerialDecimal is the same number in
	// decimal, as some CA portals show it.
	Serial        string     `json:"serial"`
	SerialDecimal string     `json:"serialDecimal"`
	Subject       string     `json:"subject"`
	SubjectFields NameFields `json:"subjectFields"`
	Issuer        string     `json:"issuer"`
	IssuerFields  NameFields `json:"issuerFields"`
	NotBefore     time.Time  `json:"notBefore"`
	NotAfter      time.Time  `json:"notAfter"`
	// KeyAlgorithm is "SM2", "RSA" or "ECDSA"; KeyBits its size.
	KeyAlgorithm       string `json:"keyAlgorithm"`
	KeyBits            int    `json:"keyBits"`
	SignatureAlgorithm string `json:"signatureAlgorithm"`
	// Fingerprints of the DER, lowercase hex.
	FingerprintSHA256 string `json:"fingerprintSha256"`
	FingerprintSM3    string `json:"fingerprintSm3"`
	// CertType follows the guide's data dictionary: 1 organisation
	// (机构证书), 2 person (个人证书).
	CertType CertType `json:"certType"`
	// CreditCode is the 统一社会信用代码 found in the subject, checksum
	// validated; empty when there is none.
	CreditCode string `json:"creditCode,omitempty"`
	PEM        string `json:"pem"`
}

// NameFields are the distinguished-name attributes trading systems read.
// Multi-valued attributes (several OU) are joined with "+" in order.
type NameFields struct {
	CN           string `json:"cn,omitempty"`
	O            string `json:"o,omitempty"`
	OU           string `json:"ou,omitempty"`
	C            string `json:"c,omitempty"`
	ST           string `json:"st,omitempty"`
	L            string `json:"l,omitempty"`
	SerialNumber string `json:"serialNumber,omitempty"`
	Email        string `json:"email,omitempty"`
}

var (
	oidCN           = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSerialNumber = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidC            = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidL            = asn1.ObjectIdentifier{2, 5, 4, 7}
	oidST           = asn1.ObjectIdentifier{2, 5, 4, 8}
	oidO            = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU           = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidEmail        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

// FactsOf reads the facts of cert. classifier decides person or
// organisation; nil means the documented default (see Classifier).
func FactsOf(cert *smx509.Certificate, classifier *Classifier) Facts {
	subjectRDN := rdnOf(cert.RawSubject)
	issuerRDN := rdnOf(cert.RawIssuer)
	sha := sha256.Sum256(cert.Raw)
	sm := sm3.Sum(cert.Raw)
	f := Facts{
		Serial:             SerialHex(cert.SerialNumber),
		Subject:            subjectRDN.String(),
		SubjectFields:      fieldsOf(subjectRDN),
		Issuer:             issuerRDN.String(),
		IssuerFields:       fieldsOf(issuerRDN),
		NotBefore:          cert.NotBefore.UTC(),
		NotAfter:           cert.NotAfter.UTC(),
		SignatureAlgorithm: cert.SignatureAlgorithm.String(),
		FingerprintSHA256:  hex.EncodeToString(sha[:]),
		FingerprintSM3:     hex.EncodeToString(sm[:]),
		PEM:                string(EncodePEM(cert)),
	}
	if cert.SerialNumber != nil {
		f.SerialDecimal = cert.SerialNumber.String()
	}
	f.KeyAlgorithm, f.KeyBits = KeyAlgorithm(cert)
	f.CreditCode = creditCodeIn(subjectRDN)
	f.CertType = classifier.CertType(cert)
	return f
}

// KeyAlgorithm names the certificate's public key algorithm ("SM2", "RSA",
// "ECDSA", or "unknown") and its size in bits.
func KeyAlgorithm(cert *smx509.Certificate) (string, int) {
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", pub.N.BitLen()
	case *ecdsa.PublicKey:
		if sm2.IsSM2PublicKey(pub) {
			return "SM2", 256
		}
		return "ECDSA", pub.Curve.Params().BitSize
	}
	return "unknown", 0
}

// IsSM2 reports whether cert carries an SM2 public key.
func IsSM2(cert *smx509.Certificate) bool {
	return cert != nil && sm2.IsSM2PublicKey(cert.PublicKey)
}

func rdnOf(raw []byte) pkix.RDNSequence {
	var rdn pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &rdn); err != nil {
		return nil
	}
	return rdn
}

func fieldsOf(rdn pkix.RDNSequence) NameFields {
	var f NameFields
	add := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		} else {
			*dst += "+" + v
		}
	}
	for _, set := range rdn {
		for _, atv := range set {
			v, ok := atv.Value.(string)
			if !ok {
				continue
			}
			switch {
			case atv.Type.Equal(oidCN):
				add(&f.CN, v)
			case atv.Type.Equal(oidO):
				add(&f.O, v)
			case atv.Type.Equal(oidOU):
				add(&f.OU, v)
			case atv.Type.Equal(oidC):
				add(&f.C, v)
			case atv.Type.Equal(oidST):
				add(&f.ST, v)
			case atv.Type.Equal(oidL):
				add(&f.L, v)
			case atv.Type.Equal(oidSerialNumber):
				add(&f.SerialNumber, v)
			case atv.Type.Equal(oidEmail):
				add(&f.Email, v)
			}
		}
	}
	return f
}

// subjectValues lists the subject's string attribute values, the
// serialNumber attribute first because CAs put the credit code or ID
// number there most often, then in certificate order.
func subjectValues(rdn pkix.RDNSequence) []string {
	var first, rest []string
	for _, set := range rdn {
		for _, atv := range set {
			v, ok := atv.Value.(string)
			if !ok {
				continue
			}
			if atv.Type.Equal(oidSerialNumber) {
				first = append(first, v)
			} else {
				rest = append(rest, v)
			}
		}
	}
	return append(first, rest...)
}

func creditCodeIn(rdn pkix.RDNSequence) string {
	for _, v := range subjectValues(rdn) {
		if c := FindCreditCode(v); c != "" {
			return c
		}
	}
	return ""
}

// subjectAttr returns the values of one subject attribute, named as in
// CertTypeRule.Field.
func subjectAttr(rdn pkix.RDNSequence, field string) []string {
	var oid asn1.ObjectIdentifier
	switch strings.ToLower(field) {
	case "cn":
		oid = oidCN
	case "o":
		oid = oidO
	case "ou":
		oid = oidOU
	case "c":
		oid = oidC
	case "st":
		oid = oidST
	case "l":
		oid = oidL
	case "serialnumber":
		oid = oidSerialNumber
	case "email", "emailaddress":
		oid = oidEmail
	case "subject", "":
		return []string{rdn.String()}
	default:
		o, err := parseOID(field)
		if err != nil {
			return nil
		}
		oid = o
	}
	var out []string
	for _, set := range rdn {
		for _, atv := range set {
			if atv.Type.Equal(oid) {
				if v, ok := atv.Value.(string); ok {
					out = append(out, v)
				}
			}
		}
	}
	return out
}
