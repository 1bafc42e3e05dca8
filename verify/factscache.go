package verify

import (
	"bytes"
	"fmt"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/lru"
)

// Bounds of a Verifier's caches. They are filled from what callers send
// (every certificate of every signature's bag, every signer), so they are
// bounded in bytes as well as in entries: a certificate in the wild is 1–2
// KiB, and one over maxCachedCertDER is parsed (and its facts read) anew each
// time instead of being kept.
const (
	maxCachedCertDER = 16 << 10
	certCacheEntries = 4096
	certCacheBytes   = 32 << 20
	factsCacheBytes  = 32 << 20
)

// certCache keeps parsed certificates by DER, so a repeat signer (and its
// chain) costs no parsing.
type certCache struct {
	certs *lru.Cache[*smx509.Certificate]
}

func newCertCache() *certCache {
	return &certCache{certs: lru.New[*smx509.Certificate](certCacheEntries, certCacheBytes)}
}

// parse is smx509.ParseCertificate with a cache. Parsed certificates are
// treated as read-only everywhere in scansign. A cached certificate is
// parsed from a copy of der: the parsed one points into its input, and
// der is usually a slice of a whole signature (up to MaxSignatureSize),
// which the cache must not keep alive.
func (c *certCache) parse(der []byte) (*smx509.Certificate, error) {
	if len(der) > maxCachedCertDER {
		return smx509.ParseCertificate(der)
	}
	if cert, ok := c.certs.Get(der); ok {
		return cert, nil
	}
	cert, err := smx509.ParseCertificate(bytes.Clone(der))
	if err != nil {
		return nil, err
	}
	c.certs.Put(der, cert, int64(len(der))+certs.ParsedCertOverhead)
	return cert, nil
}

// parseAny reads a certificate in any encoding certs.ParseCertificate
// accepts, through the cache.
func (c *certCache) parseAny(data []byte) (*smx509.Certificate, error) {
	der, err := certs.CertificateDER(data)
	if err != nil {
		return nil, err
	}
	cert, err := c.parse(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", certs.ErrMalformedCertificate, err)
	}
	return cert, nil
}

// classified is a classifier with the facts it decided, by DER, so a
// repeat signer costs no fingerprinting. The two are swapped together
// (Verifier.SetClassifier): facts hold the certificate type the
// classifier chose.
type classified struct {
	classifier *certs.Classifier
	facts      *lru.Cache[certs.Facts]
}

func newClassified(c *certs.Classifier) *classified {
	return &classified{classifier: c, facts: lru.New[certs.Facts](certCacheEntries, factsCacheBytes)}
}

func (c *classified) factsOf(cert *smx509.Certificate) certs.Facts {
	if len(cert.Raw) > maxCachedCertDER {
		return certs.FactsOf(cert, c.classifier)
	}
	if f, ok := c.facts.Get(cert.Raw); ok {
		return f
	}
	f := certs.FactsOf(cert, c.classifier)
	c.facts.Put(cert.Raw, f, factsCost(&f))
	return f
}

// factsCost estimates the bytes a Facts holds: its strings and a fixed
// part for the rest.
func factsCost(f *certs.Facts) int64 {
	n := len(f.PEM) + len(f.Subject) + len(f.Issuer) + len(f.Serial) + len(f.SerialDecimal) +
		len(f.FingerprintSHA256) + len(f.FingerprintSM3) + len(f.CreditCode)
	for _, nf := range []certs.NameFields{f.SubjectFields, f.IssuerFields} {
		n += len(nf.CN) + len(nf.O) + len(nf.OU) + len(nf.C) + len(nf.ST) + len(nf.L) + len(nf.SerialNumber) + len(nf.Email)
	}
	return int64(n) + 512
}
