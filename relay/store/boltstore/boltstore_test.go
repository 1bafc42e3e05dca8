package boltstore

import (
	"testing"

	"github.com/scansign/scansign/relay/store"
	"github.com/scansign/scansign/relay/store/storetest"
)

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"committer", Options{}},
		{"boltBatch", Options{UseBoltBatch: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) (store.Store, func(t *testing.T) store.Store) {
				dir := t.TempDir()
				open := func(t *testing.T) store.Store {
					s, err := OpenWith(dir, tc.opts)
					if err != nil {
						t.Fatal(err)
					}
					return s
				}
				return open(t), open
			})
		})
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(dir); err == nil {
		t.Fatal("a second Open of the same directory succeeded")
	}
}
