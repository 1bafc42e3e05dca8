package seal

import (
	"context"
	"fmt"
	"strings"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/certs/devpki"
	"github.com/scansign/scansign/seal/sealimg"
)

// DevSealType marks the seals RegisterDevSeals draws, so running it again
// (pki init twice, a demo restart) adds nothing twice.
const DevSealType = "开发测试章"

// DevHolder is a dev PKI leaf certificate to give seals to.
type DevHolder struct {
	Serial       string // any form certs.NormalizeSerial reads
	Name         string // the holder's name (subject CN or organisation)
	Label        string // Latin text drawn on the seal (the Go font has no Chinese); empty: what of Name it can draw
	Organisation bool   // organisations get a company and a finance seal, persons a personal seal
	Phone        string // optional userInfo phone
}

// DevHoldersFromManifest lists every leaf certificate of a dev PKI (expired,
// revoked and untrusted ones too, so their refusals can be tried with a
// seal), labelled with the leaf's name ("SM2-ORG").
func DevHoldersFromManifest(m *devpki.Manifest) []DevHolder {
	var hs []DevHolder
	for _, l := range m.Leaves {
		hs = append(hs, DevHolder{Serial: l.Serial, Name: l.CommonName, Label: strings.ToUpper(l.Name), Organisation: l.Kind == devpki.Organisation})
	}
	return hs
}

// RegisterDevSeals draws and stores development seals for each holder: a
// round company seal (4.2 cm) and an oval finance seal (4 × 3 cm) for an
// organisation, an oval personal seal (3 × 2 cm) for a person, without
// validity bounds, plus the holder's userInfo. A holder that already has dev
// seals is left as it is. It returns the seals it added.
func RegisterDevSeals(ctx context.Context, st Store, holders []DevHolder) ([]Seal, error) {
	var added []Seal
	for _, h := range holders {
		serial, err := certs.NormalizeSerial(h.Serial)
		if err != nil {
			return added, fmt.Errorf("dev seal for %q: %w", h.Name, err)
		}
		e, err := st.Lookup(ctx, serial)
		if err != nil {
			return added, err
		}
		if hasDevSeal(e) {
			continue
		}
		type design struct {
			name, kind string
			shape      sealimg.Shape
			w, h       float64
		}
		designs := []design{{h.Name + "个人章", "个人章", sealimg.Oval, 3, 2}}
		if h.Organisation {
			designs = []design{{h.Name + "公章", "公章", sealimg.Round, 4.2, 4.2}, {h.Name + "财务专用章", "财务章", sealimg.Oval, 4, 3}}
		}
		for _, d := range designs {
			label := h.Label
			if label == "" {
				label = h.Name
			}
			img, err := sealimg.DevSeal(label, d.shape)
			if err != nil {
				return added, fmt.Errorf("draw dev seal for %q: %w", h.Name, err)
			}
			s, err := st.AddSeal(ctx, Seal{Serial: serial, Name: truncateRunes(d.name, MaxNameRunes), WidthCM: d.w, HeightCM: d.h,
				Type: DevSealType, Description: d.kind + "（开发测试用，无法律效力）", Image: img})
			if err != nil {
				return added, fmt.Errorf("store dev seal for %q: %w", h.Name, err)
			}
			added = append(added, s)
		}
		if e.User == nil {
			if _, err := st.PutUser(ctx, User{Serial: serial, ID: "dev-" + serial, Name: truncateRunes(h.Name, MaxNameRunes), Phone: h.Phone}); err != nil {
				return added, err
			}
		}
	}
	return added, nil
}

func hasDevSeal(e Entry) bool {
	for _, s := range e.Seals {
		if s.Type == DevSealType {
			return true
		}
	}
	return false
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
