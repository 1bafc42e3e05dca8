package pdfsign

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
	vcms "github.com/scansign/scansign/verify/cms"
)

// PAdES-B-B CMS assembly. The syntax (attribute sets, SignedData encoding)
// is verify/cms's; this file decides what a PDF signature carries:
//
//   - signed attributes: contentType data, messageDigest (the byte ranges'
//     digest), signing-time, and signing-certificate-v2 (RFC 5035) when the
//     signer's certificate is known at prepare time;
//   - standard PKCS #7 content types (1.2.840.113549.1.7.x), because PDF
//     readers look for them in /adbe.pkcs7.detached;
//   - RSA: digest SHA-256, signature algorithm rsaEncryption (what NSS,
//     OpenSSL and Acrobat write and read);
//   - SM2: digest SM3 (1.2.156.10197.1.401), signature algorithm SM3withSM2
//     (1.2.156.10197.1.501) — BouncyCastle's and X.509's identifier, which
//     every SM2-aware CMS reader maps, unlike GM/T 0010's SM2-1 (301.1) that
//     BouncyCastle cannot name. verify accepts both when reading.

var oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}

type essCertIDv2 struct {
	HashAlgorithm pkix.AlgorithmIdentifier `asn1:"optional"`
	CertHash      []byte
	IssuerSerial  essIssuerSerial `asn1:"optional"`
}

type essIssuerSerial struct {
	Issuer []asn1.RawValue // GeneralNames: one directoryName
	Serial *big.Int
}

type signingCertificateV2 struct {
	Certs []essCertIDv2
}

// vcmsDigest maps our digest names to verify/cms's.
func (a DigestAlgorithm) cms() vcms.Digest {
	if a == SHA256 {
		return vcms.SHA256
	}
	return vcms.SM3
}

// digestForCert is SM3 for an SM2 key, SHA-256 for RSA.
func digestForCert(cert *smx509.Certificate) (DigestAlgorithm, error) {
	switch {
	case certs.IsSM2(cert):
		return SM3, nil
	case cert.PublicKeyAlgorithm == smx509.RSA:
		return SHA256, nil
	}
	return "", fail(CodeBadRequest, "签章证书的密钥既不是 SM2 也不是 RSA", "the signer's key is neither SM2 nor RSA", nil)
}

// signedAttributes builds the DER SET the signer signs in the cms shape.
func signedAttributes(alg DigestAlgorithm, digest []byte, at time.Time, signer *smx509.Certificate) ([]byte, error) {
	var extra []vcms.Attribute
	if signer != nil {
		id := essCertIDv2{
			CertHash: alg.cms().Sum(signer.Raw),
			IssuerSerial: essIssuerSerial{
				Issuer: []asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: signer.RawIssuer}},
				Serial: signer.SerialNumber,
			},
		}
		if alg != SHA256 { // SHA-256 is the DEFAULT and DER leaves it out
			id.HashAlgorithm = pkix.AlgorithmIdentifier{Algorithm: alg.cms().OID()}
		}
		v, err := asn1.Marshal(signingCertificateV2{Certs: []essCertIDv2{id}})
		if err != nil {
			return nil, err
		}
		extra = append(extra, vcms.Attribute{Type: oidSigningCertificateV2, Values: []asn1.RawValue{{FullBytes: v}}})
	}
	return vcms.SignedAttributes(vcms.OIDData, digest, at.UTC(), extra...)
}

// assembleCMS wraps a raw signature over signedAttrs into a detached
// SignedData with the signer's certificate and chain.
func assembleCMS(alg DigestAlgorithm, signedAttrs, signature []byte, signer *smx509.Certificate, chain []*smx509.Certificate) ([]byte, error) {
	digestAlg := pkix.AlgorithmIdentifier{Algorithm: alg.cms().OID()}
	var sigAlg pkix.AlgorithmIdentifier
	switch {
	case certs.IsSM2(signer):
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: vcms.OIDSM2WithSM3}
	case signer.PublicKeyAlgorithm == smx509.RSA:
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: vcms.OIDRSAEncryption, Parameters: asn1.NullRawValue}
		digestAlg.Parameters = asn1.NullRawValue
	default:
		return nil, fmt.Errorf("signer key is neither SM2 nor RSA")
	}
	all := []*smx509.Certificate{signer}
	for _, c := range chain {
		if c != nil && !c.Equal(signer) {
			all = append(all, c)
		}
	}
	return vcms.EncodeSignedData(vcms.SignedDataToEncode{
		Detached:     true,
		Certificates: all,
		Signers: []vcms.SignerToEncode{{
			Certificate:        signer,
			DigestAlgorithm:    digestAlg,
			SignatureAlgorithm: sigAlg,
			SignedAttrsDER:     signedAttrs,
			Signature:          signature,
		}},
	})
}

// estimateCMSSize is a generous bound of assembleCMS's output for a signer
// with these certificates: signed attributes (~350 B), signer info, and a
// signature up to RSA-8192.
func estimateCMSSize(certs [][]byte) int {
	n := 0
	for _, c := range certs {
		n += len(c)
	}
	return n + 2048
}
