package devpki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
)

// DefaultPassword protects every leaf's .pfx and encrypted key unless
// Options.Password says otherwise.
const DefaultPassword = "scansign-dev"

// Algorithms and kinds as written in the manifest.
const (
	SM2          = "sm2"
	RSA          = "rsa"
	Person       = "person"
	Organisation = "organisation"
)

// Options tune Generate. The zero value is what `scansign pki init` uses.
type Options struct {
	Password     string        // .pfx and encrypted-key password; default DefaultPassword
	Now          time.Time     // reference time; default time.Now()
	CAValidity   time.Duration // roots and issuing CAs; default 20 years
	LeafValidity time.Duration // leaves; default 2 years
	CRLValidity  time.Duration // CRL nextUpdate - thisUpdate; default 30 days
	RSABits      int           // default 2048
}

func (o *Options) fill() {
	if o.Password == "" {
		o.Password = DefaultPassword
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Second)
	if o.CAValidity == 0 {
		o.CAValidity = 20 * 365 * 24 * time.Hour
	}
	if o.LeafValidity == 0 {
		o.LeafValidity = 2 * 365 * 24 * time.Hour
	}
	if o.CRLValidity == 0 {
		o.CRLValidity = 30 * 24 * time.Hour
	}
	if o.RSABits == 0 {
		o.RSABits = 2048
	}
}

// Manifest lists what a dev PKI holds. It is written to DIR/manifest.json
// with paths relative to DIR; Generate, Load and Issue return it with
// absolute paths.
type Manifest struct {
	Dir      string    `json:"-"`
	TrustDir string    `json:"trustDir"` // pass to --trust / certs.LoadTrustStore
	Password string    `json:"password"`
	Created  time.Time `json:"created"`
	CAs      []CA      `json:"cas"`
	Leaves   []Leaf    `json:"leaves"`
}

// CA is one root or issuing CA.
type CA struct {
	Name      string `json:"name"`      // e.g. "sm2-root", "sm2-issuing", "sm2-untrusted-root"
	Algorithm string `json:"algorithm"` // sm2 | rsa
	Role      string `json:"role"`      // root | intermediate
	Trusted   bool   `json:"trusted"`   // in TrustDir
	Subject   string `json:"subject"`
	Serial    string `json:"serial"`
	CertPath  string `json:"cert"`
	KeyPath   string `json:"key"`           // unencrypted PKCS#8 PEM
	CRLPath   string `json:"crl,omitempty"` // the CRL this CA issued, if any
}

// Leaf is one end-entity certificate with its key.
type Leaf struct {
	Name       string `json:"name"`      // e.g. "sm2-person"
	Algorithm  string `json:"algorithm"` // sm2 | rsa
	Kind       string `json:"kind"`      // person | organisation
	CommonName string `json:"commonName"`
	Subject    string `json:"subject"`
	Serial     string `json:"serial"` // certs.SerialHex
	CreditCode string `json:"creditCode,omitempty"`
	Issuer     string `json:"issuer"`       // CA name
	CertPath   string `json:"cert"`         // leaf PEM
	ChainPath  string `json:"chain"`        // leaf + issuing CA PEM
	KeyPath    string `json:"key"`          // unencrypted PKCS#8 PEM
	EncKeyPath string `json:"encryptedKey"` // PKCS#8 PEM encrypted with the password
	PFXPath    string `json:"pfx"`          // PKCS#12 with the chain
	PFXPass    string `json:"pfxPassword"`  // same as Manifest.Password
	Trusted    bool   `json:"trusted"`      // chains to a root in TrustDir
	Expired    bool   `json:"expired"`      // notAfter already passed at creation
	Revoked    bool   `json:"revoked"`      // listed in its issuer's CRL
	NotAfter   string `json:"notAfter"`     // RFC 3339
}

// Leaf returns the leaf called name.
func (m *Manifest) Leaf(name string) (*Leaf, bool) {
	for i := range m.Leaves {
		if m.Leaves[i].Name == name {
			return &m.Leaves[i], true
		}
	}
	return nil, false
}

// CA returns the CA called name.
func (m *Manifest) CA(name string) (*CA, bool) {
	for i := range m.CAs {
		if m.CAs[i].Name == name {
			return &m.CAs[i], true
		}
	}
	return nil, false
}

// Identity loads the leaf's key, certificate and chain.
func (l *Leaf) Identity() (*certs.Identity, error) {
	key, err := os.ReadFile(l.KeyPath)
	if err != nil {
		return nil, err
	}
	chain, err := os.ReadFile(l.ChainPath)
	if err != nil {
		return nil, err
	}
	return certs.LoadIdentity(key, chain, nil)
}

// Generate writes a complete dev PKI into dir (created if needed; existing
// files of the same names are overwritten) and returns its manifest:
//
//	trust/      sm2-root.pem sm2-root.crl sm2-issuing.pem sm2-issuing.crl  (and the same for rsa)
//	untrusted/  sm2-untrusted-root.pem rsa-untrusted-root.pem (not trusted)
//	ca/         CA keys (unencrypted, dev only)
//	leaves/     NAME.pem NAME.chain.pem NAME.key.pem NAME.enc.key.pem NAME.pfx
//
// Leaves, for each of sm2 and rsa: ALG-person, ALG-org (with a valid
// 统一社会信用代码), ALG-expired, ALG-revoked, ALG-untrusted.
func Generate(dir string, opts Options) (*Manifest, error) {
	opts.fill()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for _, sub := range []string{"trust", "untrusted", "ca", "leaves"} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o755); err != nil {
			return nil, fmt.Errorf("devpki: %w", err)
		}
	}
	m := &Manifest{Dir: abs, TrustDir: filepath.Join(abs, "trust"), Password: opts.Password, Created: opts.Now}
	g := &generator{m: m, opts: opts}
	for _, alg := range []string{SM2, RSA} {
		if err := g.family(alg); err != nil {
			return nil, err
		}
	}
	if err := m.save(); err != nil {
		return nil, err
	}
	return m, nil
}

type generator struct {
	m    *Manifest
	opts Options
}

type caMaterial struct {
	cert *smx509.Certificate
	key  crypto.Signer
}

func (g *generator) family(alg string) error {
	upper := strings.ToUpper(alg)
	now := g.opts.Now
	// CAs start three years back so the expired leaf had a valid chain
	// while it lived (auditors verify old signatures with --at).
	caStart := now.Add(-3 * 365 * 24 * time.Hour)
	root, err := g.ca(alg, alg+"-root", "trust", pkix.Name{CommonName: "scansign Dev " + upper + " Root CA", Organization: []string{"scansign Dev"}, Country: []string{"CN"}}, nil, caStart, now.Add(g.opts.CAValidity), true)
	if err != nil {
		return err
	}
	issuing, err := g.ca(alg, alg+"-issuing", "trust", pkix.Name{CommonName: "scansign Dev " + upper + " Issuing CA", Organization: []string{"scansign Dev"}, Country: []string{"CN"}}, root, caStart.Add(time.Hour), now.Add(g.opts.CAValidity-time.Hour), true)
	if err != nil {
		return err
	}
	other, err := g.ca(alg, alg+"-untrusted-root", "untrusted", pkix.Name{CommonName: "scansign Untrusted " + upper + " Root CA", Organization: []string{"Elsewhere"}, Country: []string{"CN"}}, nil, caStart, now.Add(g.opts.CAValidity), false)
	if err != nil {
		return err
	}
	personName := map[string]string{SM2: "张三", RSA: "李四"}[alg]
	orgName := map[string]string{SM2: "安徽示例建设工程有限公司", RSA: "合肥示例招标代理有限公司"}[alg]
	leafEnd := now.Add(g.opts.LeafValidity)
	specs := []leafSpec{
		{name: alg + "-person", kind: Person, cn: personName, notBefore: now.Add(-time.Hour), notAfter: leafEnd},
		{name: alg + "-org", kind: Organisation, cn: orgName, notBefore: now.Add(-time.Hour), notAfter: leafEnd},
		{name: alg + "-expired", kind: Person, cn: personName + "（已过期）", notBefore: now.Add(-2 * 365 * 24 * time.Hour), notAfter: now.Add(-24 * time.Hour), expired: true},
		{name: alg + "-revoked", kind: Person, cn: personName + "（已吊销）", notBefore: now.Add(-time.Hour), notAfter: leafEnd, revoked: true},
	}
	var revoked []smx509.RevocationListEntry
	for _, s := range specs {
		leaf, cert, err := g.leaf(alg, s, issuing, alg+"-issuing", true)
		if err != nil {
			return err
		}
		if s.revoked {
			revoked = append(revoked, smx509.RevocationListEntry{SerialNumber: cert.SerialNumber, RevocationTime: now.Add(-30 * time.Minute)})
		}
		g.m.Leaves = append(g.m.Leaves, *leaf)
	}
	untrusted, _, err := g.leaf(alg, leafSpec{name: alg + "-untrusted", kind: Person, cn: personName + "（不受信任）", notBefore: now.Add(-time.Hour), notAfter: leafEnd}, other, alg+"-untrusted-root", false)
	if err != nil {
		return err
	}
	g.m.Leaves = append(g.m.Leaves, *untrusted)
	// The issuing CA's CRL, and the root's (empty) one for the issuing CA,
	// in the trust directory: with both, every certificate of a chain is
	// checked for revocation, and `require_fresh_crl` has what it needs.
	if err := g.crl(alg+"-issuing", issuing, revoked); err != nil {
		return err
	}
	return g.crl(alg+"-root", root, nil)
}

// crl writes the CRL of CA name into the trust directory.
func (g *generator) crl(name string, ca *caMaterial, revoked []smx509.RevocationListEntry) error {
	now := g.opts.Now
	crlDER, err := smx509.CreateRevocationList(rand.Reader, &smx509.RevocationList{
		Number:                    big.NewInt(1),
		ThisUpdate:                now.Add(-10 * time.Minute),
		NextUpdate:                now.Add(g.opts.CRLValidity),
		RevokedCertificateEntries: revoked,
	}, ca.cert, ca.key)
	if err != nil {
		return fmt.Errorf("devpki: %s CRL: %w", name, err)
	}
	crlPath := filepath.Join(g.m.TrustDir, name+".crl")
	if err := os.WriteFile(crlPath, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER}), 0o644); err != nil {
		return err
	}
	if c, ok := g.m.CA(name); ok {
		c.CRLPath = crlPath
	}
	return nil
}

type leafSpec struct {
	name, kind, cn      string
	creditCode          string
	notBefore, notAfter time.Time
	expired, revoked    bool
}

func newKey(alg string, rsaBits int) (crypto.Signer, error) {
	switch alg {
	case SM2:
		return sm2.GenerateKey(rand.Reader)
	case RSA:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	}
	return nil, fmt.Errorf("devpki: algorithm %q is not sm2 or rsa", alg)
}

func randomSerial() (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	b[0] &= 0x7f
	if b[0] == 0 {
		b[0] = 0x11
	}
	return new(big.Int).SetBytes(b), nil
}

func keyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	sum := sha1.Sum(spki.Key.Bytes)
	return sum[:], nil
}

func (g *generator) ca(alg, name, sub string, subject pkix.Name, parent *caMaterial, notBefore, notAfter time.Time, trusted bool) (*caMaterial, error) {
	key, err := newKey(alg, g.opts.RSABits)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	ski, err := keyID(key.Public())
	if err != nil {
		return nil, err
	}
	tmpl := &smx509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign | smx509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          ski,
	}
	issuerCert, issuerKey := tmpl, key
	role := "root"
	if parent != nil {
		issuerCert, issuerKey = parent.cert, parent.key
		role = "intermediate"
		tmpl.MaxPathLenZero = true
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, issuerCert, key.Public(), issuerKey)
	if err != nil {
		return nil, fmt.Errorf("devpki: %s: %w", name, err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	certPath := filepath.Join(g.m.Dir, sub, name+".pem")
	keyPath := filepath.Join(g.m.Dir, "ca", name+".key.pem")
	if err := writeCert(certPath, cert); err != nil {
		return nil, err
	}
	if err := writeKey(keyPath, key, nil); err != nil {
		return nil, err
	}
	g.m.CAs = append(g.m.CAs, CA{
		Name: name, Algorithm: alg, Role: role, Trusted: trusted,
		Subject: certs.FactsOf(cert, nil).Subject, Serial: certs.SerialHex(cert.SerialNumber),
		CertPath: certPath, KeyPath: keyPath,
	})
	return &caMaterial{cert: cert, key: key}, nil
}

func (g *generator) leaf(alg string, s leafSpec, issuer *caMaterial, issuerName string, trusted bool) (*Leaf, *smx509.Certificate, error) {
	if !validName.MatchString(s.name) {
		return nil, nil, fmt.Errorf("devpki: leaf name %q: use letters, digits, '-' and '_'", s.name)
	}
	key, err := newKey(alg, g.opts.RSABits)
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	ski, err := keyID(key.Public())
	if err != nil {
		return nil, nil, err
	}
	subject := pkix.Name{CommonName: s.cn, Country: []string{"CN"}, Province: []string{"安徽省"}, Locality: []string{"合肥市"}}
	if s.kind == Organisation {
		if s.creditCode == "" {
			s.creditCode, err = randomCreditCode()
			if err != nil {
				return nil, nil, err
			}
		}
		subject.Organization = []string{s.cn}
		subject.SerialNumber = s.creditCode
	} else {
		id, err := randomResidentID()
		if err != nil {
			return nil, nil, err
		}
		subject.SerialNumber = id
	}
	usage := smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment | smx509.KeyUsageDataEncipherment
	if alg == RSA {
		usage |= smx509.KeyUsageKeyEncipherment
	} else {
		usage |= smx509.KeyUsageKeyAgreement
	}
	tmpl := &smx509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		KeyUsage:              usage,
		BasicConstraintsValid: true,
		SubjectKeyId:          ski,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, issuer.cert, key.Public(), issuer.key)
	if err != nil {
		return nil, nil, fmt.Errorf("devpki: %s: %w", s.name, err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	base := filepath.Join(g.m.Dir, "leaves", s.name)
	l := &Leaf{
		Name: s.name, Algorithm: alg, Kind: s.kind, CommonName: s.cn,
		Subject: certs.FactsOf(cert, nil).Subject, Serial: certs.SerialHex(cert.SerialNumber),
		CreditCode: s.creditCode, Issuer: issuerName,
		CertPath: base + ".pem", ChainPath: base + ".chain.pem", KeyPath: base + ".key.pem",
		EncKeyPath: base + ".enc.key.pem", PFXPath: base + ".pfx", PFXPass: g.opts.Password,
		Trusted: trusted, Expired: s.expired, Revoked: s.revoked,
		NotAfter: cert.NotAfter.UTC().Format(time.RFC3339),
	}
	if err := writeCert(l.CertPath, cert); err != nil {
		return nil, nil, err
	}
	chainPEM := append(certs.EncodePEM(cert), certs.EncodePEM(issuer.cert)...)
	if err := os.WriteFile(l.ChainPath, chainPEM, 0o644); err != nil {
		return nil, nil, err
	}
	if err := writeKey(l.KeyPath, key, nil); err != nil {
		return nil, nil, err
	}
	if err := writeKey(l.EncKeyPath, key, []byte(g.opts.Password)); err != nil {
		return nil, nil, err
	}
	chain := []*smx509.Certificate{issuer.cert}
	pfx, err := certs.EncodePFX(&certs.Identity{Signer: key, Certificate: cert, Chain: chain}, []byte(g.opts.Password), s.name)
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(l.PFXPath, pfx, 0o600); err != nil {
		return nil, nil, err
	}
	return l, cert, nil
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func writeCert(path string, cert *smx509.Certificate) error {
	return os.WriteFile(path, certs.EncodePEM(cert), 0o644)
}

func writeKey(path string, key crypto.Signer, password []byte) error {
	p, err := certs.MarshalPrivateKeyPEM(key, password)
	if err != nil {
		return err
	}
	return os.WriteFile(path, p, 0o600)
}

// randomCreditCode makes a valid-looking 统一社会信用代码 for test
// organisations: "91" (enterprise), a 合肥 division code, random
// organisation code characters, and the right check character.
func randomCreditCode() (string, error) {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	code := "91340100"
	for _, c := range b {
		code += string(alphabet[int(c)%len(alphabet)])
	}
	check, ok := certs.CreditCodeCheckChar(code)
	if !ok {
		return "", errors.New("devpki: credit code")
	}
	return code + string(check), nil
}

func randomResidentID() (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := fmt.Sprintf("340104199%d%02d%02d%03d", b[0]%10, 1+b[1]%12, 1+b[2]%28, int(b[3])%1000)
	check, ok := certs.ResidentIDCheckChar(id)
	if !ok {
		return "", errors.New("devpki: resident id")
	}
	return id + string(check), nil
}

// Load reads DIR/manifest.json and makes its paths absolute.
func Load(dir string) (*Manifest, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(abs, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("devpki: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("devpki: manifest.json: %w", err)
	}
	m.Dir = abs
	m.mapPaths(func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(abs, filepath.FromSlash(p))
	})
	return &m, nil
}

func (m *Manifest) mapPaths(f func(string) string) {
	m.TrustDir = f(m.TrustDir)
	for i := range m.CAs {
		c := &m.CAs[i]
		c.CertPath, c.KeyPath, c.CRLPath = f(c.CertPath), f(c.KeyPath), f(c.CRLPath)
	}
	for i := range m.Leaves {
		l := &m.Leaves[i]
		l.CertPath, l.ChainPath, l.KeyPath = f(l.CertPath), f(l.ChainPath), f(l.KeyPath)
		l.EncKeyPath, l.PFXPath = f(l.EncKeyPath), f(l.PFXPath)
	}
}

// save writes DIR/manifest.json with paths relative to DIR, so the
// directory can be moved or committed.
func (m *Manifest) save() error {
	out := *m
	out.CAs = append([]CA(nil), m.CAs...)
	out.Leaves = append([]Leaf(nil), m.Leaves...)
	out.mapPaths(func(p string) string {
		if p == "" {
			return p
		}
		if rel, err := filepath.Rel(m.Dir, p); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
		return p
	})
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(m.Dir, "manifest.json"), append(data, '\n'), 0o644)
}

// IssueRequest describes one more leaf for Issue.
type IssueRequest struct {
	Name       string        // file name stem, unique in the manifest
	Algorithm  string        // sm2 | rsa
	Kind       string        // person | organisation
	CommonName string        // default: the name
	CreditCode string        // organisations; default: a random valid code
	Validity   time.Duration // default 2 years
}

// Issue adds a leaf signed by the trusted issuing CA of req.Algorithm to the
// PKI in dir (made by Generate) and records it in the manifest.
func Issue(dir string, req IssueRequest) (*Leaf, error) {
	m, err := Load(dir)
	if err != nil {
		return nil, err
	}
	if _, dup := m.Leaf(req.Name); dup {
		return nil, fmt.Errorf("devpki: a leaf called %q already exists", req.Name)
	}
	if req.Algorithm != SM2 && req.Algorithm != RSA {
		return nil, fmt.Errorf("devpki: algorithm %q is not sm2 or rsa", req.Algorithm)
	}
	if req.Kind == "" {
		req.Kind = Person
	}
	if req.Kind == "org" || req.Kind == "organization" {
		req.Kind = Organisation
	}
	if req.Kind != Person && req.Kind != Organisation {
		return nil, fmt.Errorf("devpki: kind %q is not person or organisation", req.Kind)
	}
	if req.CreditCode != "" && !certs.ValidCreditCode(req.CreditCode) {
		return nil, fmt.Errorf("devpki: %q is not a valid 统一社会信用代码", req.CreditCode)
	}
	if req.CommonName == "" {
		req.CommonName = req.Name
	}
	if req.Validity == 0 {
		req.Validity = 2 * 365 * 24 * time.Hour
	}
	ca, ok := m.CA(req.Algorithm + "-issuing")
	if !ok {
		return nil, fmt.Errorf("devpki: no %s issuing CA in %s", req.Algorithm, dir)
	}
	caCertPEM, err := os.ReadFile(ca.CertPath)
	if err != nil {
		return nil, err
	}
	caKeyPEM, err := os.ReadFile(ca.KeyPath)
	if err != nil {
		return nil, err
	}
	caCert, err := certs.ParseCertificate(caCertPEM)
	if err != nil {
		return nil, err
	}
	caKey, err := certs.ParsePrivateKey(caKeyPEM, nil)
	if err != nil {
		return nil, err
	}
	g := &generator{m: m, opts: Options{Password: m.Password, RSABits: 2048}}
	now := time.Now().UTC().Truncate(time.Second)
	leaf, _, err := g.leaf(req.Algorithm, leafSpec{
		name: req.Name, kind: req.Kind, cn: req.CommonName, creditCode: req.CreditCode,
		notBefore: now.Add(-time.Hour), notAfter: now.Add(req.Validity),
	}, &caMaterial{cert: caCert, key: caKey}, ca.Name, ca.Trusted)
	if err != nil {
		return nil, err
	}
	m.Leaves = append(m.Leaves, *leaf)
	if err := m.save(); err != nil {
		return nil, err
	}
	return leaf, nil
}
