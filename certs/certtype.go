package certs

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/smx509"
	"gopkg.in/yaml.v3"
)

// CertType is the guide's certType: 0 any, 1 organisation (机构证书),
// 2 person (个人证书).
type CertType int

// The guide's data dictionary values.
const (
	CertTypeAny          CertType = 0
	CertTypeOrganisation CertType = 1
	CertTypePerson       CertType = 2
)

func (t CertType) String() string {
	switch t {
	case CertTypeAny:
		return "any"
	case CertTypeOrganisation:
		return "organisation"
	case CertTypePerson:
		return "person"
	}
	return "certType(" + strconv.Itoa(int(t)) + ")"
}

// ParseCertType reads a certType as the guide writes it ("", "0", "1", "2")
// or by name ("any", "organisation"/"organization"/"org", "person").
func ParseCertType(s string) (CertType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "any":
		return CertTypeAny, nil
	case "1", "organisation", "organization", "org":
		return CertTypeOrganisation, nil
	case "2", "person", "individual":
		return CertTypePerson, nil
	}
	return 0, fmt.Errorf("certs: certType %q is not 0, 1 or 2", s)
}

// CertTypeRule classifies certificates of one issuing CA. Rules are tried
// in order; the first whose Issuer and Match both match decides.
type CertTypeRule struct {
	// Issuer is matched as a substring of the issuer DN string (as in
	// Facts.Issuer, e.g. "CN=Anhui CA,O=…"); empty matches every issuer.
	Issuer string `json:"issuer" yaml:"issuer"`
	// Field is the subject attribute to look at: CN, O, OU, C, ST, L,
	// serialNumber, email, a dotted OID, or "subject" for the whole DN.
	Field string `json:"field" yaml:"field"`
	// Match is a regular expression (RE2) searched in the field's values.
	Match string `json:"match" yaml:"match"`
	// CertType is what a match means: 1 organisation, 2 person.
	CertType CertType `json:"certType" yaml:"certType"`
}

type compiledRule struct {
	CertTypeRule
	re *regexp.Regexp
}

// Classifier decides whether a certificate is a person's or an
// organisation's. Its zero value and a nil *Classifier apply the default:
//
//  1. configured rules, in order (see CertTypeRule);
//  2. a subject OU saying so the way CFCA and others mark it
//     ("Organizational-…", "Individual-…", "企业"/"机构"/"单位", "个人");
//  3. a valid 统一社会信用代码 anywhere in the subject → organisation;
//  4. otherwise → person (person certificates carry a name and usually a
//     resident ID number, which is never taken for a credit code).
type Classifier struct {
	rules []compiledRule
}

// NewClassifier compiles rules; an empty list gives the default classifier.
func NewClassifier(rules []CertTypeRule) (*Classifier, error) {
	c := &Classifier{}
	for i, r := range rules {
		if r.CertType != CertTypeOrganisation && r.CertType != CertTypePerson {
			return nil, fmt.Errorf("certs: certType rule %d: certType must be 1 or 2, got %d", i+1, r.CertType)
		}
		if r.Match == "" {
			return nil, fmt.Errorf("certs: certType rule %d: match is empty", i+1)
		}
		re, err := regexp.Compile(r.Match)
		if err != nil {
			return nil, fmt.Errorf("certs: certType rule %d: %w", i+1, err)
		}
		c.rules = append(c.rules, compiledRule{CertTypeRule: r, re: re})
	}
	return c, nil
}

// ParseCertTypeRules reads a YAML or JSON list of CertTypeRule, e.g.
//
//   - issuer: "CN=Example SM2 CA"
//     field: OU
//     match: "^企业"
//     certType: 1
func ParseCertTypeRules(data []byte) ([]CertTypeRule, error) {
	var rules []CertTypeRule
	if err := yaml.Unmarshal(data, &rules); err != nil {
		return nil, fmt.Errorf("certs: certType rules: %w", err)
	}
	return rules, nil
}

var (
	orgMarkers    = []string{"organizational", "organisational", "organization", "organisation", "企业", "机构", "单位", "法人"}
	personMarkers = []string{"individual", "personal", "个人"}
)

// CertType classifies cert; it never returns CertTypeAny.
func (c *Classifier) CertType(cert *smx509.Certificate) CertType {
	subject := rdnOf(cert.RawSubject)
	if c != nil && len(c.rules) > 0 {
		issuer := rdnOf(cert.RawIssuer).String()
		for _, r := range c.rules {
			if r.Issuer != "" && !strings.Contains(issuer, r.Issuer) {
				continue
			}
			for _, v := range subjectAttr(subject, r.Field) {
				if r.re.MatchString(v) {
					return r.CertType
				}
			}
		}
	}
	for _, ou := range subjectAttr(subject, "OU") {
		l := strings.ToLower(ou)
		for _, m := range orgMarkers {
			if strings.Contains(l, m) {
				return CertTypeOrganisation
			}
		}
		for _, m := range personMarkers {
			if strings.Contains(l, m) {
				return CertTypePerson
			}
		}
	}
	if creditCodeIn(subject) != "" {
		return CertTypeOrganisation
	}
	return CertTypePerson
}

func parseOID(s string) (asn1.ObjectIdentifier, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, errors.New("not a dotted OID")
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, errors.New("not a dotted OID")
		}
		oid[i] = n
	}
	return oid, nil
}
