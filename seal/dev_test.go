package seal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/scansign/scansign/certs/devpki"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/seal"
	"github.com/scansign/scansign/seal/sealimg"
	"github.com/scansign/scansign/seal/store"
)

func TestRegisterDevSeals(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenEmbedded(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	holders := []seal.DevHolder{
		{Serial: "0x01AB", Name: "SM2 Test Org", Organisation: true},
		{Serial: "cd", Name: "测试个人"},
	}
	added, err := seal.RegisterDevSeals(ctx, st, holders)
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 3 {
		t.Fatalf("added %d seals, want 3", len(added))
	}
	// Idempotent: a second run adds nothing.
	if again, err := seal.RegisterDevSeals(ctx, st, holders); err != nil || len(again) != 0 {
		t.Fatalf("second run added %d, %v", len(again), err)
	}
	org, err := st.Lookup(ctx, "1ab")
	if err != nil || len(org.Seals) != 2 || org.User == nil || org.User.Name != "SM2 Test Org" {
		t.Fatalf("organisation entry %+v, %v", org, err)
	}
	if org.Seals[0].Name != "SM2 Test Org公章" || org.Seals[0].WidthCM != 4.2 || org.Seals[1].HeightCM != 3 {
		t.Fatalf("organisation seals %+v", org.Seals)
	}
	person, err := st.Lookup(ctx, "CD")
	if err != nil || len(person.Seals) != 1 || person.Seals[0].Name != "测试个人个人章" {
		t.Fatalf("person entry %+v, %v", person, err)
	}
	for _, s := range append(org.Seals, person.Seals...) {
		info, err := sealimg.Check(s.Image)
		if err != nil || !info.Transparent {
			t.Fatalf("dev seal image %+v, %v", info, err)
		}
	}
	if _, err := seal.RegisterDevSeals(ctx, st, []seal.DevHolder{{Serial: "xyz", Name: "bad"}}); err == nil {
		t.Fatal("accepted a bad serial")
	}
}

// TestDevHoldersFromManifest registers seals for the leaves of a dev PKI,
// as `pki init` does, and finds them by each leaf's serial.
func TestDevHoldersFromManifest(t *testing.T) {
	m := testpki.Manifest(t)
	holders := seal.DevHoldersFromManifest(m)
	if len(holders) != len(m.Leaves) || len(holders) == 0 {
		t.Fatalf("%d holders for %d leaves", len(holders), len(m.Leaves))
	}
	ctx := context.Background()
	st, err := store.OpenEmbedded(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := seal.RegisterDevSeals(ctx, st, holders); err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Leaves {
		e, err := st.Lookup(ctx, l.Serial)
		if err != nil || e.User == nil || e.User.Name != l.CommonName {
			t.Fatalf("%s: %+v, %v", l.Name, e, err)
		}
		want := 1
		if l.Kind == devpki.Organisation {
			want = 2
		}
		if len(e.Seals) != want || !strings.Contains(e.Seals[0].Name, l.CommonName) {
			t.Fatalf("%s (%s): %d seals %q", l.Name, l.Kind, len(e.Seals), e.Seals[0].Name)
		}
	}
}
